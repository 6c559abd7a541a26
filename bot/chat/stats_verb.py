"""`/lambert stats [all] [7|30]`: the counts of a channel or its workspace, in chat."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from bot.chat.context import RequestContext
from bot.chat.quote_verbs import COMMAND, echo
from bot.chat.replies import Reply, TextReply
from bot.stats.store import Place, Scope
from bot.stats.summary import Summary, summarise

if TYPE_CHECKING:
    from bot.runtime import Core

WINDOWS = (7, 30)  # days `/lambert stats` shows: the default first
USAGE = f"`{COMMAND} stats [all] [7|30]`"
TOP = 5  # quotes, themes and empty searches listed in chat


def place(ctx: RequestContext) -> Place:
    return Place(ctx.platform, ctx.space, ctx.channel)


def parse_request(rest: str) -> tuple[bool, int] | None:
    """(whole workspace?, days) from `[all] [7|30]` in any order; None for anything else."""
    everywhere, days = False, WINDOWS[0]
    for word in rest.casefold().split():
        if word == "all" and not everywhere:
            everywhere = True
        elif word.isascii() and word.isdigit() and int(word) in WINDOWS:
            days = int(word)
        else:
            return None
    return everywhere, days


async def answer_stats(core: Core, rest: str, ctx: RequestContext) -> Reply:
    """`/lambert stats [all] [7|30]`: this channel's counts, or its workspace's (admins)."""
    parsed = parse_request(rest)
    if parsed is None:
        what = "This channel's stats for the last 7 days; `all` for the whole workspace or server"
        return TextReply(f"Usage: {USAGE}", (f"{what}, `30` for 30 days.",))
    everywhere, days = parsed
    lines: list[str] = []
    if everywhere and not ctx.space:
        lines.append("No workspace or server here: this conversation's stats only.")
        everywhere = False
    scope = Scope(ctx.platform, ctx.space, None if everywhere else ctx.channel)
    where = "this channel"
    if everywhere:
        where = "this server" if ctx.platform == "discord" else "this workspace"
    stats = core.stats
    await stats.flush()  # what was counted a moment ago counts too
    summary = await summarise(
        stats.store, scope, days, stats.today(), recording=stats.recording, limit=TOP
    )
    return TextReply(f"Stats for {where}, last {days} days", tuple(lines + summary_lines(summary)))


def summary_lines(s: Summary) -> list[str]:
    """The summary as chat lines: counts and names only."""
    lines = []
    if not s.recording:
        lines.append("Stats are off here (LAMBERT_STATS=off): nothing new is counted.")
    verbs, outcomes = Counter[str](), Counter[str]()
    for verb, outcome, n in s.commands:
        verbs[verb] += n
        outcomes[outcome] += n
    if not s.total_commands and not any(s.posted.values()):
        return [*lines, f"Nothing counted from {s.first} to {s.last} (UTC days)."]
    lines.append(f"Commands: {s.total_commands} ({_listed(verbs)}); outcomes: {_listed(outcomes)}")
    if s.shown:
        themes = ", ".join(f"{t} {n}" for t, n in s.themes[:TOP])
        quotes = ", ".join(f"`{q}` {n}" for q, n in s.quotes[:TOP])
        lines.append(f"Quotes shown: {s.shown}; by theme: {themes}; most shown: {quotes}")
    lines.append(f"Posted: {s.posted.get('preview', 0)} previews, {s.posted.get('daily', 0)} daily")
    if s.empty_searches:
        found = ", ".join(f"{echo(w)} {n}" for w, n in s.empty_searches[:TOP])
        lines.append(f"Searches that found nothing: {found}")
    lines.append(f"UTC days {s.first} to {s.last}. Counts only: no user is recorded.")
    return lines


def _listed(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
