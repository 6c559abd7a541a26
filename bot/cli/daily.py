"""`lambert daily set|off|list|tick`: the daily posts, for operators and scripts."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_command, error, heading, open_core, print_json, refuse
from bot.platforms import NAMES, PLATFORMS

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.daily.days import DayRecord
    from bot.daily.report import TickReport
    from bot.daily.service import ChannelStatus
    from bot.platforms import Platform

SET_BY = "lambert daily set"
# A real tick this far from the clock would record every day between as missed (or post days
# that are not yet due) and hold back the real posts: it needs --force.
FAR = timedelta(days=1)


def register(commands: Any) -> None:
    daily = add_command(
        commands,
        "daily",
        list_command,
        "the daily quote per channel: set, off, list, tick",
        "Schedule a quote a day per channel, at a local time, posted exactly once a day.\n"
        "With no action: `list`.",
    )
    daily.set_defaults(json=False)
    actions = daily.add_subparsers(title="actions", metavar="ACTION")

    set_ = add_command(
        actions,
        "set",
        set_command,
        "post to a channel at a local time, every day or on --days",
        "Post to a channel at a local time, every day or on --days only. JSON: the schedule as "
        "`daily list` shows it.",
        json_flag=True,
    )
    set_.add_argument("--platform", required=True, choices=NAMES)
    set_.add_argument(
        "--channel", required=True, help="the platform's channel id (any name for console)"
    )
    set_.add_argument(
        "--time",
        required=True,
        metavar="TIME",
        help="local time: 09:00, 9am, 9:30 pm, 21h or 21.30",
    )
    set_.add_argument("--tz", required=True, metavar="ZONE", help="IANA zone, e.g. Europe/Berlin")
    set_.add_argument("--theme", metavar="SLUG", help="only this theme (slug or alias)")
    set_.add_argument(
        "--days",
        metavar="DAYS",
        help="only these days of the week: weekdays, weekends, mon,wed,fri or mon-fri "
        "(default: every day)",
    )

    off = add_command(
        actions,
        "off",
        off_command,
        "stop a channel's daily quote",
        'Stop a channel\'s daily quote. JSON: {"platform", "channel", "enabled": false}.',
        json_flag=True,
    )
    off.add_argument("--platform", required=True, choices=NAMES)
    off.add_argument("--channel", required=True)

    add_command(
        actions,
        "list",
        list_command,
        "every schedule, its next post and last outcome",
        'Every schedule. JSON: {"schedules": [{"platform", "workspace", "channel", "time", '
        '"days", "tz", "theme", "enabled", "next_post_utc", "last_outcome"}]}; channel is the '
        "platform's id, workspace Slack's team or organisation id (null elsewhere), days the "
        'days of the week it posts on ["mon", ...]; last_outcome is null or '
        '{"status", "local_date", "quote_id", "message_id", "reason"}.',
        json_flag=True,
    )

    tick = add_command(
        actions,
        "tick",
        tick_command,
        "one scheduler pass: post what is due now (or at --at)",
        "Run one scheduler pass as if the clock read --at (default: now), posting through the "
        "configured platforms; console posts go to standard output (standard error with "
        '--json). JSON: {"posted": [{"platform", "channel", "local_date", "quote_id"}], '
        '"missed": [{"platform", "channel", "local_date"}], "failed": [{..., "reason", '
        '"disabled", "retry_at_utc"}]}. Safe to run from cron or twice: a day posts once.\n'
        "With --dry-run, nothing is posted or recorded; JSON: "
        '{"dry_run": true, "due": [{"platform", "channel", "local_date", "action", '
        '"scheduled_at_utc"}]}.',
        json_flag=True,
    )
    tick.add_argument("--at", metavar="INSTANT", help="ISO 8601, e.g. 2025-03-10T08:00:00Z")
    tick.add_argument(
        "--dry-run", action="store_true", help="show what is due; post and record nothing"
    )
    tick.add_argument(
        "--force",
        action="store_true",
        help=f"allow an --at more than {FAR.days} day from the clock (it records the days between)",
    )


async def named(settings: Settings, platform: Platform, channel: str) -> str | int:
    """The core's name for the channel an operator typed (Platform.name_channel), or the
    exit code of a refusal already written."""
    from bot.config import ConfigError

    if platform.name_channel is None:
        return channel
    try:
        name: str = await platform.load(platform.name_channel)(settings, channel)
    except ConfigError as exc:
        return refuse(str(exc))
    except ConnectionError as exc:
        error(f"{exc}; nothing was changed, try again later")
        return 1
    return name


async def set_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.daily.report import utc_text
    from bot.daily.schedules import (
        EVERY_DAY,
        ScheduleError,
        parse_days,
        parse_local_time,
        parse_zone,
    )
    from bot.serving.posters import available_platforms

    channel = args.channel.strip()
    try:
        local_time = parse_local_time(args.time)
        weekdays = parse_days(args.days) if args.days else EVERY_DAY
        tz = parse_zone(args.tz)
    except ScheduleError as exc:
        return refuse(str(exc))
    if not channel:
        return refuse("--channel is empty")
    platform = PLATFORMS[args.platform]
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
    schedule, upcoming = found.schedule, found.next_post
    if args.json:
        print_json(schedule_json(found))
    else:
        sys.stdout.write(
            f"{schedule.where}: a quote {schedule.when} "
            f"({slug or 'any theme'}); next post {utc_text(upcoming) if upcoming else 'none'}\n"
        )
    if args.platform not in available_platforms(settings):
        error(f"note: {args.platform} is not configured here, so nothing posts yet")
    return 0


async def off_command(args: argparse.Namespace, settings: Settings) -> int:
    channel = await named(settings, PLATFORMS[args.platform], args.channel.strip())
    if isinstance(channel, int):
        return channel
    async with open_core(args, settings, integrity_check=True) as core:  # it writes
        found = await core.daily.turn_off(args.platform, channel, SET_BY)
    if not found:
        error(f"no daily schedule for {args.platform}/{channel}")
        return 1
    if args.json:
        print_json({"platform": args.platform, "channel": channel, "enabled": False})
    else:
        sys.stdout.write(f"{args.platform}/{channel}: daily quote off\n")
    return 0


def outcome_json(record: DayRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "status": record.status.value,
        "local_date": record.local_date.isoformat(),
        "quote_id": record.quote_id,
        "message_id": record.message_id,
        "reason": record.reason,
    }


def schedule_json(channel: ChannelStatus) -> dict[str, Any]:
    """A schedule as `daily list --json` and `daily set --json` print it."""
    from bot.daily.report import utc_text
    from bot.daily.schedules import day_names

    s, upcoming = channel.schedule, channel.next_post
    workspace, channel_id = None, s.channel
    if PLATFORMS[s.platform].name_channel:  # "WORKSPACE/CHANNEL"
        workspace, _, channel_id = s.channel.rpartition("/")
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
        "last_outcome": outcome_json(channel.last),
    }


async def list_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chat.daily_verbs import describe_outcome

    async with open_core(args, settings) as core:
        channels = await core.daily.overview()
    schedules = [c.schedule for c in channels]
    rows = [schedule_json(c) for c in channels]
    if args.json:
        print_json({"schedules": rows})
        return 0
    if not schedules:
        sys.stdout.write("No daily schedules. Add one with `lambert daily set`.\n")
    for s, row, channel in zip(schedules, rows, channels, strict=True):
        state = f"next {row['next_post_utc']}" if s.enabled else "off"
        if s.disabled_reason:
            state += f" ({s.disabled_reason})"
        described = describe_outcome(channel.last)
        sys.stdout.write(
            f"{heading(s.where)}  {s.when}  theme {s.theme or 'any'}  {state}\n"
            f"    last: {described}\n"
        )
    return 0


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


async def tick_command(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from bot.daily.clock import StoppedClock, SystemClock
    from bot.daily.report import utc_text
    from bot.daily.scheduler import Scheduler
    from bot.daily.schedules import ScheduleError
    from bot.serving.posters import available_platforms, open_posters
    from bot.storage.connection import DatabaseError

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
    if args.dry_run:
        return await _dry_run(args, settings, at)
    # With --json, standard output carries the one JSON object and nothing else.
    console = sys.stderr if args.json else sys.stdout
    async with open_core(args, settings, clock=StoppedClock(at)) as core:
        schedules = await core.daily.store.schedules()
        wanted = tuple(sorted({s.platform for s in schedules if s.enabled}))
        for platform in sorted(set(wanted) - set(available_platforms(settings))):
            logging.getLogger(__name__).warning(
                "%s is not configured here: its daily schedules are skipped", platform
            )
        async with open_posters(settings, wanted, console, core) as posters:
            catchup = timedelta(hours=settings.catchup_hours)
            scheduler = Scheduler(core.quotes, core.daily, posters, catchup=catchup)
            try:
                report = await scheduler.tick()
            except DatabaseError as exc:  # it was there when the tick began
                error(_lost_mid_tick(settings, exc))
                return 1
    if args.json:
        print_json(report.as_json())
    else:
        sys.stdout.write(_summary(report, at))
    return 0


def _lost_mid_tick(settings: Settings, exc: Exception) -> str:
    """One line for a database gone during a tick: which (no password), why, what to do."""
    from bot.storage.urls import redacted

    url = settings.database_url.reveal() if settings.database_url else ""
    where = redacted(url) if url else str(settings.db_path)
    detail = getattr(exc, "detail", None) or str(exc)
    return (
        f"{where}: the database went away during the tick ({detail}). Nothing will be posted "
        "twice: once the database is back, run `lambert daily tick` again; it settles the days "
        "this tick left (a post caught mid-way is reported unknown)."
    )


async def _dry_run(args: argparse.Namespace, settings: Settings, at: datetime) -> int:
    """What a tick at `at` would do through the platforms configured here; nothing written."""
    from bot.daily.clock import StoppedClock
    from bot.daily.report import utc_text
    from bot.serving.posters import available_platforms

    async with open_core(args, settings, clock=StoppedClock(at)) as core:
        catchup = timedelta(hours=settings.catchup_hours)
        due = await core.daily.due(catchup, available_platforms(settings))
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
    if args.json:
        print_json({"dry_run": True, "due": items})
        return 0
    lines = [f"daily tick at {utc_text(at)} (dry run: nothing posted or recorded)"]
    lines += [
        f"  would {DRY_RUN_VERBS[i['action']]} {i['platform']}/{i['channel']} "
        f"{i['local_date']} (due {i['scheduled_at_utc']})"
        for i in items
    ]
    if not items:
        lines.append("  nothing due")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


DRY_RUN_VERBS = {"post": "post", "retry": "retry", "miss": "record as missed", "give_up": "give up"}


def _summary(report: TickReport, at: datetime) -> str:
    from bot.daily.report import utc_text

    lines = [f"daily tick at {utc_text(at)}"]
    lines += [
        f"  posted {p['platform']}/{p['channel']} {p['local_date']}: {p['quote_id']}"
        for p in report.posted
    ]
    lines += [f"  missed {m['platform']}/{m['channel']} {m['local_date']}" for m in report.missed]
    for f in report.failed:
        later = f", retry at {f['retry_at_utc']}" if f["retry_at_utc"] else ""
        lines.append(
            f"  failed {f['platform']}/{f['channel']} {f['local_date']}: {f['reason']}{later}"
        )
    lines += [
        f"  unknown {u['platform']}/{u['channel']} {u['local_date']}: {u['reason']}"
        for u in report.unknown
    ]
    if len(lines) == 1:
        lines.append("  nothing due")
    return "\n".join(lines) + "\n"
