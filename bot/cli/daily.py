"""`lambert daily set|off|list|tick`: the daily posts, for operators and scripts."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.cli.common import THEME, arg, command, error, heading, open_core, output, refuse
from bot.daily.schedules import DAYS_FORMATS, TIME_FORMATS
from bot.platforms import NAMES, PLATFORMS

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.daily.service import ChannelStatus
    from bot.platforms import Platform

SET_BY = "lambert daily set"
PLATFORM = arg("--platform", required=True, choices=NAMES)


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
    from bot.daily.report import utc_text
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
    schedule, upcoming = found.schedule, found.next_post
    next_post = utc_text(upcoming) if upcoming else "none"
    text = (
        f"{schedule.where}: a quote {schedule.when} ({slug or 'any theme'}); next post {next_post}"
    )
    output(args, schedule_json(found), text)
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
        error(f"no daily schedule for {args.platform}/{channel}")
        return 1
    payload = {"platform": args.platform, "channel": channel, "enabled": False}
    return output(args, payload, f"{args.platform}/{channel}: daily quote off")


def schedule_json(channel: ChannelStatus) -> dict[str, Any]:
    """A schedule as `daily list --json` and `daily set --json` print it."""
    from bot.daily.report import utc_text
    from bot.daily.schedules import day_names

    s, upcoming, last = channel.schedule, channel.next_post, channel.last
    workspace, channel_id = None, s.channel
    if PLATFORMS[s.platform].name_channel:  # "WORKSPACE/CHANNEL"
        workspace, _, channel_id = s.channel.rpartition("/")
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
        "last_outcome": {k: _json(getattr(last, k)) for k in outcome} if last else None,
    }


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


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
    lines = ["No daily schedules. Add one with `lambert daily set`."] if not channels else []
    for channel, row in zip(channels, rows, strict=True):
        s = channel.schedule
        state = f"next {row['next_post_utc']}" if s.enabled else "off"
        state += f" ({s.disabled_reason})" if s.disabled_reason else ""
        lines.append(f"{heading(s.where)}  {s.when}  theme {s.theme or 'any'}  {state}")
        lines.append(f"    last: {describe_outcome(channel.last)}")
    return output(args, {"schedules": rows}, "\n".join(lines))
