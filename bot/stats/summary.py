"""A window of stats for a scope: what `/lambert stats` and `lambert stats` show, and its JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bot.stats.store import COMMAND, POSTED, QUOTE, THEME, Scope

if TYPE_CHECKING:
    from bot.stats.sql_store import StateStatsStore


@dataclass(frozen=True, slots=True)
class ChannelLine:
    platform: str
    space: str
    channel: str
    commands: int
    shown: int
    posted: int


@dataclass(frozen=True, slots=True)
class Summary:
    """Totals over the UTC days `first`..`last` (`days` of them) for `scope`."""

    scope: Scope
    days: int
    first: date
    last: date
    recording: bool
    commands: list[tuple[str, str, int]]  # (verb, outcome, count), most first
    themes: list[tuple[str, int]]  # (slug, times a quote of it was shown), most first
    quotes: list[tuple[str, int]]  # (id, times shown), most first, at most `limit`
    shown: int
    posted: dict[str, int]  # preview, daily
    empty_searches: list[tuple[str, int]]  # (words, count), most first, at most `limit`
    by_day: list[tuple[date, int, int, int]]  # (day, commands, shown, posted), every day
    channels: list[ChannelLine]

    @property
    def total_commands(self) -> int:
        return sum(n for _, _, n in self.commands)

    def to_json(self) -> dict[str, Any]:
        """The shape documented in docs/cli.md, "stats"."""
        return {
            "recording": self.recording,
            "days": self.days,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "scope": asdict(self.scope),
            "commands": {
                "total": self.total_commands,
                "by_verb": [{"verb": v, "outcome": o, "count": n} for v, o, n in self.commands],
            },
            "shown": {
                "total": self.shown,
                "themes": [{"theme": t, "count": n} for t, n in self.themes],
                "quotes": [{"id": q, "count": n} for q, n in self.quotes],
            },
            "posted": dict(self.posted),
            "empty_searches": [{"words": w, "count": n} for w, n in self.empty_searches],
            "by_day": [
                {"date": d.isoformat(), "commands": c, "shown": s, "posted": p}
                for d, c, s, p in self.by_day
            ],
            "channels": [asdict(c) for c in self.channels],
        }


def _most_first(counts: Counter[str], limit: int | None = None) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


async def summarise(
    store: StateStatsStore | None,
    scope: Scope,
    days: int,
    today: date,
    *,
    recording: bool,
    limit: int = 10,
) -> Summary:
    """The last `days` UTC days up to `today`; an empty summary without a store."""
    first = today - timedelta(days=days - 1)
    tallies = await store.tallies(first, scope) if store else []
    daily = await store.by_day(first, scope) if store else []
    per_channel = await store.by_channel(first, scope) if store else []
    empty = await store.empty_searches(first, scope, limit) if store else []

    commands = sorted(
        ((t.name, t.detail, t.total) for t in tallies if t.metric == COMMAND),
        key=lambda c: (-c[2], c[0], c[1]),
    )
    named: dict[str, Counter[str]] = {metric: Counter() for metric in (THEME, QUOTE, POSTED)}
    for t in tallies:
        if t.metric in named:
            named[t.metric][t.name] += t.total
    themes, quotes = named[THEME], named[QUOTE]
    posted = dict.fromkeys(("preview", "daily"), 0) | dict(named[POSTED])

    per_day: dict[date, Counter[str]] = {first + timedelta(i): Counter() for i in range(days)}
    for d in daily:
        if d.day in per_day:
            per_day[d.day][d.metric] += d.total
    channels: dict[tuple[str, str], Counter[str]] = {}
    spaces: dict[tuple[str, str], str] = {}
    for c in per_channel:
        channels.setdefault((c.platform, c.channel), Counter())[c.metric] += c.total
        spaces[(c.platform, c.channel)] = max(spaces.get((c.platform, c.channel), ""), c.space)
    return Summary(
        scope=scope,
        days=days,
        first=first,
        last=today,
        recording=recording,
        commands=commands,
        themes=_most_first(themes),
        quotes=_most_first(quotes, limit),
        shown=sum(quotes.values()),
        posted=posted,
        empty_searches=empty,
        by_day=[(d, c[COMMAND], c[QUOTE], c[POSTED]) for d, c in per_day.items()],
        channels=sorted(
            (
                ChannelLine(p, spaces[(p, ch)], ch, c[COMMAND], c[QUOTE], c[POSTED])
                for (p, ch), c in channels.items()
            ),
            key=lambda line: (-line.commands, -line.posted, line.platform, line.channel),
        ),
    )
