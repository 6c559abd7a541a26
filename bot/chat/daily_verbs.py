"""`/lambert daily ...`: turn a channel's daily quote on or off, or show its status (admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.chat.replies import TextReply
from bot.daily.history import DayRecord, PostHistory, PostStatus
from bot.daily.plan import next_post
from bot.daily.scheduler import Clock, SystemClock
from bot.daily.schedules import Schedule, ScheduleError, ScheduleStore, parse_local_time, parse_zone
from bot.quotes.service import QuoteService

if TYPE_CHECKING:  # bot.chat.grammar imports this module: a runtime import would be circular
    from bot.chat.grammar import RequestContext

DAILY = "/lambert daily"
EXAMPLE = f"{DAILY} on 09:00 Europe/Berlin"
USAGE = (
    f"`{DAILY} on HH:MM Area/City [theme]` posts a quote here every day at that local time",
    f"`{DAILY} off` stops it",
    f"`{DAILY}` shows when the next one comes and how the last one went",
)


async def answer_daily(
    service: QuoteService, text: str, ctx: RequestContext, clock: Clock | None = None
) -> TextReply:
    """The reply to `/lambert daily <text>`. Refuses non-admins before reading or writing."""
    if not ctx.is_admin:
        return TextReply(
            "Only admins can manage the daily quote.",
            (
                f"Turning it on or off, or seeing its status, needs {ctx.admin_means}.",
                "Ask an admin to run the command here.",
            ),
            ok=False,
        )
    now = (clock or SystemClock()).now()
    verb, _, rest = text.strip().partition(" ")
    verb = verb.casefold()
    if verb in ("", "status") and not rest:
        return await status_reply(service, ctx.platform, ctx.channel, now)
    if verb == "on":
        return await _turn_on(service, rest, ctx, now)
    if verb == "off" and not rest:
        return await _turn_off(service, ctx, now)
    return TextReply(f"Usage of {DAILY}:", USAGE, ok=False)


async def _turn_on(
    service: QuoteService, rest: str, ctx: RequestContext, now: datetime
) -> TextReply:
    words = rest.split()
    if len(words) < 2:
        return TextReply(
            "Say when, and in which time zone.",
            (f"For example `{EXAMPLE}`, or `{EXAMPLE} dpo` for one theme.", *USAGE[1:]),
            ok=False,
        )
    try:
        local_time = parse_local_time(words[0])
        tz = parse_zone(words[1])
    except ScheduleError as exc:
        return TextReply("That schedule does not work.", (str(exc), f"e.g. `{EXAMPLE}`"), ok=False)
    theme_text = " ".join(words[2:])
    theme = service.resolve_theme(theme_text) if theme_text else None
    if theme_text and theme is None:
        names = service.closest_themes(theme_text) or [i.theme for i in service.themes()]
        return TextReply(
            f"No theme is called \u201c{theme_text[:40]}\u201d.",
            ("Themes: " + ", ".join(f"`{t.slug}`" for t in names) + ".",),
            ok=False,
        )
    who = ctx.user_name or ctx.user
    schedule = Schedule(
        ctx.platform, ctx.channel, local_time, tz, theme.slug if theme else None, True, who, now
    )
    await ScheduleStore.of(service.store.conn).save(schedule)
    title = f"Daily quote on: every day at {schedule.time_text} {tz}."
    return TextReply(title, await _details(service, schedule, now))


async def _turn_off(service: QuoteService, ctx: RequestContext, now: datetime) -> TextReply:
    store = ScheduleStore.of(service.store.conn)
    if not await store.turn_off(ctx.platform, ctx.channel, ctx.user_name or ctx.user, now):
        return TextReply("There is no daily quote here to turn off.", (f"Start one: `{EXAMPLE}`",))
    return TextReply("Daily quote off for this channel.", (f"Back on: `{EXAMPLE}`",))


async def status_reply(
    service: QuoteService, platform: str, channel: str, now: datetime
) -> TextReply:
    schedule = await ScheduleStore.of(service.store.conn).get(platform, channel)
    if schedule is None:
        return TextReply("No daily quote here yet.", (f"Start one: `{EXAMPLE}`", *USAGE[2:]))
    if schedule.enabled:
        title = f"Daily quote: every day at {schedule.time_text} {schedule.tz}."
    else:
        title = "The daily quote is off here."
    return TextReply(title, await _details(service, schedule, now))


async def _details(service: QuoteService, schedule: Schedule, now: datetime) -> tuple[str, ...]:
    history = PostHistory(service.store.conn)
    records = await history.records_since(now.astimezone(UTC).date())
    last = (await history.latest()).get((schedule.platform, schedule.channel))
    info = service.theme_info(schedule.theme) if schedule.theme else None
    lines = [f"Theme: {info.theme.title}" if info else "Theme: any (the whole corpus)"]
    upcoming = next_post(schedule, now, records)
    if upcoming is not None:
        local, utc = upcoming.astimezone(schedule.zone), upcoming.astimezone(UTC)
        lines.append(
            f"Next post: {local:%a %d %b %Y, %H:%M} {local.tzname()} ({utc:%Y-%m-%d %H:%M} UTC)"
        )
    elif schedule.disabled_reason:
        lines.append(f"Stopped because the last post failed: {schedule.disabled_reason}")
        lines.append(f"Fix that, then turn it back on: `{DAILY} on ...`")
    lines.append(f"Last post: {describe_outcome(last)}")
    lines.append(f"Set by {schedule.set_by} on {schedule.set_at:%Y-%m-%d}.")
    return tuple(lines)


def describe_outcome(record: DayRecord | None) -> str:
    """One line on how a day went, for chat status and `lambert daily list`."""
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
