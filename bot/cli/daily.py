"""`lambert daily set|off|list|tick`: the daily posts, for operators, scripts and cron."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cli.common import THEME, arg, command, error, heading, open_core, output, refuse
from bot.config import ConfigError, Settings
from bot.daily.schedules import DAYS_FORMATS, TIME_FORMATS
from bot.platforms import PLATFORMS

if TYPE_CHECKING:
    from bot.daily.plan import Due
    from bot.daily.report import TickReport
    from bot.daily.service import ChannelStatus
    from bot.platforms import Platform

log = logging.getLogger(__name__)
SET_BY = "lambert daily set"
PLATFORM = arg("--platform", required=True, choices=tuple(PLATFORMS))


async def named(settings: Settings, platform: Platform, channel: str) -> str | int:
    """The core's name for the channel an operator typed, or the exit code of a refusal."""
    if platform.name_channel is None:
        return channel
    try:
        name: str = await platform.load(platform.name_channel)(settings, channel)
    except ConfigError as exc:
        return refuse(str(exc))
    except ConnectionError as exc:
        return error(f"{exc}; nothing was changed, try again later")
    return name


@command(
    "daily set",
    "post to a channel at a local time, every day or on --days",
    "Post to a channel at a local time, every day or on --days only. JSON: the schedule as "
    "`daily list` shows it.",
    PLATFORM,
    arg("--channel", required=True, help="the platform's channel id (any name for console)"),
    arg("--time", required=True, metavar="TIME", help=f"local time: {TIME_FORMATS}"),
    arg("--tz", required=True, metavar="ZONE", help="IANA zone, e.g. Europe/Berlin"),
    THEME,
    arg(
        "--days",
        metavar="DAYS",
        help=f"only these days of the week: {DAYS_FORMATS} (default: every day)",
    ),
    json=True,
)
async def set_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.daily.schedules import ScheduleError, parse_schedule
    from bot.serving.posters import available_platforms

    channel, platform = args.channel.strip(), PLATFORMS[args.platform]
    try:  # the checks `/lambert daily on` makes
        local_time, tz, weekdays = parse_schedule(args.time, args.tz, args.days or "")
    except ScheduleError as exc:
        return refuse(str(exc))
    if not channel:
        return refuse("--channel is empty")
    if not platform.channel_id.fullmatch(channel):
        return refuse(
            f"--channel {channel[:40]!r} is not a {platform.name} channel id; "
            f"use e.g. {platform.channel_example}"
        )
    channel_or_exit = await named(settings, platform, channel)
    if isinstance(channel_or_exit, int):
        return channel_or_exit
    async with open_core(args, settings, integrity_check=True) as core:  # it writes
        theme = core.quotes.resolve_theme(args.theme) if args.theme else None
        if args.theme and theme is None:
            slugs = ", ".join(i.theme.slug for i in core.quotes.themes())
            return refuse(f"unknown theme {args.theme!r}; themes: {slugs}")
        slug = theme.slug if theme else None
        found = await core.daily.turn_on(
            args.platform, channel_or_exit, local_time, tz, slug, SET_BY, weekdays
        )
    s, row = found.schedule, schedule_json(found)
    next_post = row["next_post_utc"] or "none"
    output(args, row, f"{s.where}: a quote {s.when} ({slug or 'any theme'}); next post {next_post}")
    if args.platform not in available_platforms(settings):
        error(f"note: {args.platform} is not configured here, so nothing posts yet")
    return 0


@command(
    "daily off",
    "stop a channel's daily quote",
    'Stop a channel\'s daily quote. JSON: {"platform", "channel", "enabled": false}.',
    PLATFORM,
    arg("--channel", required=True),
    json=True,
)
async def off_command(args: argparse.Namespace, settings: Settings) -> int:
    channel = await named(settings, PLATFORMS[args.platform], args.channel.strip())
    if isinstance(channel, int):
        return channel
    async with open_core(args, settings, integrity_check=True) as core:  # it writes
        found = await core.daily.turn_off(args.platform, channel, SET_BY)
    if not found:
        return error(f"no daily schedule for {args.platform}/{channel}")
    payload = {"platform": args.platform, "channel": channel, "enabled": False}
    return output(args, payload, f"{args.platform}/{channel}: daily quote off")


def schedule_json(channel: ChannelStatus) -> dict[str, Any]:
    """A schedule as `daily list --json` and `daily set --json` print it."""
    from bot.daily.report import utc_text
    from bot.daily.schedules import day_names

    s, upcoming, last = channel.schedule, channel.next_post, channel.last
    keyed = PLATFORMS[s.platform].name_channel  # "WORKSPACE/CHANNEL"
    workspace, _, channel_id = s.channel.rpartition("/") if keyed else ("", "", s.channel)
    outcome = ("status", "local_date", "quote_id", "message_id", "reason")
    return {
        "platform": s.platform,
        "workspace": workspace or None,
        "channel": channel_id,
        "time": s.time_text,
        "days": day_names(s.weekdays),
        "tz": s.tz,
        "theme": s.theme,
        "enabled": s.enabled,
        "next_post_utc": utc_text(upcoming) if upcoming else None,
        "last_outcome": {k: getattr(last, k) for k in outcome} if last else None,
    }


@command(
    "daily",
    "the daily quote per channel: set, off, list, tick",
    "Schedule a quote a day per channel, at a local time, posted exactly once a day.\n"
    "With no action: `list`.",
)
@command(
    "daily list",
    "every schedule, its next post and last outcome",
    'Every schedule. JSON: {"schedules": [{"platform", "workspace", "channel", "time", '
    '"days", "tz", "theme", "enabled", "next_post_utc", "last_outcome"}]}; channel is the '
    "platform's id, workspace Slack's team or organisation id (null elsewhere), days the "
    'days of the week it posts on ["mon", ...]; last_outcome is null or '
    '{"status", "local_date", "quote_id", "message_id", "reason"}.',
    json=True,
)
async def list_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chat.daily_verbs import describe_outcome

    async with open_core(args, settings) as core:
        channels = await core.daily.overview()
    rows = [schedule_json(c) for c in channels]
    lines = [] if channels else ["No daily schedules. Add one with `lambert daily set`."]
    for channel, row in zip(channels, rows, strict=True):
        s = channel.schedule
        state = f"next {row['next_post_utc']}" if s.enabled else "off"
        state += f" ({s.disabled_reason})" if s.disabled_reason else ""
        lines.append(f"{heading(s.where)}  {s.when}  theme {s.theme or 'any'}  {state}")
        lines.append(f"    last: {describe_outcome(channel.last)}")
    return output(args, {"schedules": rows}, "\n".join(lines))


# A real tick this far from the clock would record every day between as missed (or post days
# that are not yet due) and hold back the real posts: it needs --force.
FAR = timedelta(days=1)
DRY_RUN_VERBS = {"post": "post", "retry": "retry", "miss": "record as missed", "give_up": "give up"}


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; one without an offset is read as UTC."""
    from bot.daily.clock import YEARS
    from bot.daily.schedules import ScheduleError

    try:
        instant = datetime.fromisoformat(text.strip())
        instant = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    except ValueError:
        raise ScheduleError(
            f"--at {text!r} is not an ISO 8601 instant; use e.g. 2025-03-10T08:00:00Z"
        ) from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, before year 1 in UTC
        instant = datetime.min.replace(tzinfo=UTC)
    # Days and catch-up windows are computed around it: near year 1 or 9999 they would not fit.
    if instant.year not in YEARS:
        raise ScheduleError(
            f"--at {text!r} is out of range; use an instant from {YEARS[0]} to {YEARS[-1]}, "
            "e.g. 2025-03-10T08:00:00Z"
        )
    return instant


@command(
    "daily tick",
    "one scheduler pass: post what is due now (or at --at)",
    "Run one scheduler pass as if the clock read --at (default: now), posting through the "
    "configured platforms; console posts go to standard output (standard error with "
    '--json). JSON: {"posted": [{"platform", "channel", "local_date", "quote_id"}], '
    '"missed": [{"platform", "channel", "local_date"}], "failed": [{..., "reason", '
    '"disabled", "retry_at_utc"}]}. Safe to run from cron or twice: a day posts once.\n'
    "With --dry-run, nothing is posted or recorded; JSON: "
    '{"dry_run": true, "due": [{"platform", "channel", "local_date", "action", '
    '"scheduled_at_utc"}]}.',
    arg("--at", metavar="INSTANT", help="ISO 8601, e.g. 2025-03-10T08:00:00Z"),
    arg("--dry-run", action="store_true", help="show what is due; post and record nothing"),
    arg(
        "--force",
        action="store_true",
        help=f"allow an --at more than {FAR.days} day from the clock (it records the days between)",
    ),
    json=True,
)
async def tick_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.daily.clock import StoppedClock, SystemClock
    from bot.daily.report import utc_text
    from bot.daily.scheduler import Scheduler
    from bot.daily.schedules import ScheduleError
    from bot.serving.posters import available_platforms, open_posters
    from bot.storage.connection import DatabaseError
    from bot.storage.urls import redacted

    now = SystemClock().now()
    try:
        at = parse_instant(args.at) if args.at else now
    except ScheduleError as exc:
        return refuse(str(exc))
    if abs(at - now) > FAR and not (args.force or args.dry_run):
        days = abs(at - now) / timedelta(days=1)
        return refuse(
            f"--at {utc_text(at)} is {days:.1f} days from the clock ({utc_text(now)}): a real "
            "tick there would record every day between as missed and hold back real posts. "
            "Add --dry-run to see what it would do, or --force to run it anyway."
        )
    # With --json, standard output carries the one JSON object and nothing else.
    console = sys.stderr if args.json else sys.stdout
    catchup = timedelta(hours=settings.catchup_hours)
    async with open_core(args, settings, clock=StoppedClock(at)) as core:
        if args.dry_run:  # through the platforms configured here; nothing written
            return _dry_run(args, at, await core.daily.due(catchup, available_platforms(settings)))
        schedules = await core.daily.store.schedules()
        wanted = tuple(sorted({s.platform for s in schedules if s.enabled}))
        for platform in sorted(set(wanted) - set(available_platforms(settings))):
            log.warning("%s is not configured here: its daily schedules are skipped", platform)
        async with open_posters(settings, wanted, console) as posters:
            try:
                report = await Scheduler(core.quotes, core.daily, posters, catchup=catchup).tick()
            except DatabaseError as exc:  # it was there when the tick began: which, why, what to do
                url = settings.database_url.reveal()
                where = redacted(url) if url else str(settings.db_path)  # never the password
                detail = getattr(exc, "detail", None) or str(exc)
                return error(
                    f"{where}: the database went away during the tick ({detail}). Nothing will be "
                    "posted twice: once the database is back, run `lambert daily tick` again; it "
                    "settles the days this tick left (a post caught mid-way is reported unknown)."
                )
    return output(args, report.as_json(), _summary(report, utc_text(at)))


def _dry_run(args: argparse.Namespace, at: datetime, due: list[Due]) -> int:
    from bot.daily.report import utc_text

    items = [
        {
            "platform": d.schedule.platform,
            "channel": d.schedule.channel,
            "local_date": d.local_date.isoformat(),
            "action": d.action.value,
            "scheduled_at_utc": utc_text(d.scheduled_at),
        }
        for d in due
    ]
    lines = [f"daily tick at {utc_text(at)} (dry run: nothing posted or recorded)"]
    lines += [
        f"  would {DRY_RUN_VERBS[d.action]} {d.schedule.where} {d.local_date} "
        f"(due {utc_text(d.scheduled_at)})"
        for d in due
    ] or ["  nothing due"]
    return output(args, {"dry_run": True, "due": items}, "\n".join(lines))


def _summary(report: TickReport, at: str) -> str:
    """A line per outcome: the quote posted, or why it failed (and when it is retried)."""
    lines = []
    for kind, items in report.as_json().items():
        for i in items:
            detail = i.get("reason") or i.get("quote_id")
            later = f", retry at {i['retry_at_utc']}" if i.get("retry_at_utc") else ""
            detail = f": {detail}{later}" if detail else ""
            lines.append(f"  {kind} {i['platform']}/{i['channel']} {i['local_date']}{detail}")
    return "\n".join([f"daily tick at {at}", *(lines or ["  nothing due"])])
