"""`/lambert daily ...`: turn a channel's daily quote on or off, or show its status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, time
from typing import TYPE_CHECKING

from bot.chat.context import RequestContext
from bot.chat.replies import Form, TextReply
from bot.daily.days import DayRecord, PostStatus
from bot.daily.schedules import (
    DAYS_FORMATS,
    EVERY_DAY,
    TIME_FORMATS,
    ScheduleError,
    looks_like_days,
    parse_schedule,
)
from bot.daily.service import ChannelStatus

if TYPE_CHECKING:  # bot.runtime is imported by the grammar; only the type is needed here
    from bot.runtime import Core

DAILY = "/lambert daily"
EXAMPLE = f"{DAILY} on 09:00 Europe/Berlin"
USAGE = (
    f"`{DAILY} on TIME [DAYS] Area/City [theme]` posts a quote here at that local time, every "
    f"day or on DAYS only (TIME: {TIME_FORMATS}; DAYS: {DAYS_FORMATS})",
    f"`{DAILY} off` stops it",
    f"`{DAILY}` shows when the next one comes and how the last one went",
)
STATUS_WORDS = ("", "status")


def changes_schedule(words: str) -> bool:
    """Whether `/lambert daily <words>` is for admins: everything but the status."""
    return " ".join(words.split()).casefold() not in STATUS_WORDS


async def answer_daily(core: Core, text: str, ctx: RequestContext) -> TextReply:
    """The reply to `/lambert daily <text>`, the grammar having checked who asks."""
    verb, _, rest = text.strip().partition(" ")
    verb = verb.casefold()
    if verb in STATUS_WORDS and not rest:
        return replace(await status(core, ctx), form=Form.OFFER if verb else Form.OPEN)
    if verb == "on":
        words = rest.split()
        if len(words) > 1 and words[1].casefold().replace(".", "") in ("am", "pm"):
            words[:2] = [" ".join(words[:2])]  # "9:30 pm" is one time
        days: list[str] = []  # "mon, wed, fri" is one DAYS
        while len(words) > 2 and (looks_like_days(words[1]) or words[1].startswith(",")):
            days.append(words.pop(1))
        if len(words) < 2:
            theme = core.quotes.example_theme()
            one_theme = f", or `{EXAMPLE} {theme}` for one theme" if theme else ""
            example = (
                f"For example `{EXAMPLE}`, `{DAILY} on 9am weekdays Europe/Berlin`{one_theme}."
            )
            return TextReply("Say when, and in which time zone.", (example, *USAGE[1:]), ok=False)
        return await turn_on_text(
            core, ctx, words[0], words[1], " ".join(words[2:]), days_text=" ".join(days)
        )
    if verb == "off" and not rest:
        return await turn_off(core, ctx)
    return TextReply(f"Usage of {DAILY}:", USAGE, ok=False)


async def turn_on_text(
    core: Core,
    ctx: RequestContext,
    time_text: str,
    zone_text: str,
    theme_text: str | None = "",
    *,
    days_text: str | None = "",
) -> TextReply:
    """Schedule the context's channel from what was typed (text, Discord's options), each
    refusal a reply that says what would work. No days: every day."""
    try:
        local_time, tz, weekdays = parse_schedule(time_text, zone_text, days_text or "")
    except ScheduleError as exc:
        return TextReply("That schedule does not work.", (str(exc), f"e.g. `{EXAMPLE}`"), ok=False)
    theme_text = (theme_text or "").strip()
    theme = core.quotes.resolve_theme(theme_text) if theme_text else None
    if theme_text and theme is None:
        names = core.quotes.closest_themes(theme_text) or [i.theme for i in core.quotes.themes()]
        return TextReply(
            f"No theme is called \u201c{theme_text[:40]}\u201d.",
            ("Themes: " + ", ".join(f"`{t.slug}`" for t in names) + ".",),
            ok=False,
        )
    slug = theme.slug if theme else None
    return await turn_on(core, ctx, local_time, tz, slug, time_text, weekdays)


async def turn_on(
    core: Core,
    ctx: RequestContext,
    local_time: time,
    tz: str,
    theme: str | None,
    said: str = "",
    weekdays: int = EVERY_DAY,
) -> TextReply:
    """Schedule the context's channel with checked values (a canonical zone, a theme's slug, a
    mask of weekdays), as a form gives them; `said`: the time as typed."""
    who = ctx.user_name or ctx.user
    found = await core.daily.turn_on(
        ctx.platform, ctx.channel, local_time, tz, theme, who, weekdays
    )
    said, read = said.strip(), found.schedule.time_text
    understood = [f"\u201c{said}\u201d read as {read}."] if said and said != read else []
    lines = (*understood, *_details(core, found))
    return TextReply(f"Daily quote on: {found.schedule.when}.", lines)


async def turn_off(core: Core, ctx: RequestContext) -> TextReply:
    if not await core.daily.turn_off(ctx.platform, ctx.channel, ctx.user_name or ctx.user):
        return TextReply("There is no daily quote here to turn off.", (f"Start one: `{EXAMPLE}`",))
    return TextReply("Daily quote off for this channel.", (f"Back on: `{EXAMPLE}`",))


async def status(core: Core, ctx: RequestContext) -> TextReply:
    found = await core.daily.status(ctx.platform, ctx.channel)
    if found is None:
        return TextReply("No daily quote here yet.", (f"Start one: `{EXAMPLE}`", *USAGE[2:]))
    return described(core, found)


def described(core: Core, found: ChannelStatus) -> TextReply:  # Slack's form shows it too
    s = found.schedule
    title = f"Daily quote: {s.when}." if s.enabled else "The daily quote is off here."
    return TextReply(title, _details(core, found))


def _details(core: Core, found: ChannelStatus) -> tuple[str, ...]:
    schedule = found.schedule
    info = core.quotes.theme_info(schedule.theme) if schedule.theme else None
    lines = [f"Theme: {info.theme.title}" if info else "Theme: any (the whole corpus)"]
    if found.next_post is not None:
        local, utc = found.next_post.astimezone(schedule.zone), found.next_post.astimezone(UTC)
        lines.append(
            f"Next post: {local:%a %d %b %Y, %H:%M} {local.tzname()} ({utc:%Y-%m-%d %H:%M} UTC)"
        )
    elif schedule.disabled_reason:
        lines.append(f"Stopped because the last post failed: {schedule.disabled_reason}")
        lines.append(f"Fix that, then turn it back on: `{DAILY} on ...`")
    lines.append(f"Last post: {describe_outcome(found.last)}")
    lines.append(f"Set by {schedule.set_by} on {schedule.set_at:%Y-%m-%d}.")
    return tuple(lines)


def describe_outcome(record: DayRecord | None) -> str:
    """How a day went, for chat status and `lambert daily list`."""
    if record is None:
        return "none yet"
    day = record.local_date.isoformat()
    quote = f" (quote {record.quote_id})" if record.quote_id else ""
    text = {
        PostStatus.POSTED: f"posted on {day}{quote}",
        PostStatus.CLAIMED: f"about to post for {day}{quote}",
        PostStatus.SENDING: f"posting now for {day}{quote}",
        PostStatus.RETRYING: f"retrying for {day}: {record.reason}",
        PostStatus.FAILED: f"failed on {day}: {record.reason}",
        PostStatus.MISSED: f"missed on {day} (lambert was not running in time)",
        PostStatus.UNKNOWN: f"unknown for {day}{quote}: {record.reason}; not posted again",
    }
    return text[record.status]
