"""`lambert daily tick`: one scheduler pass at the clock's instant or --at, or what it would do."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.cli.common import arg, command, error, open_core, output, refuse

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.daily.plan import Due
    from bot.daily.report import TickReport

# A real tick this far from the clock would record every day between as missed (or post days
# that are not yet due) and hold back the real posts: it needs --force.
FAR = timedelta(days=1)


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
    import logging

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
            logging.getLogger(__name__).warning(
                "%s is not configured here: its daily schedules are skipped", platform
            )
        async with open_posters(settings, wanted, console) as posters:
            scheduler = Scheduler(core.quotes, core.daily, posters, catchup=catchup)
            try:
                report = await scheduler.tick()
            except DatabaseError as exc:  # it was there when the tick began: which, why, what to do
                url = settings.database_url.reveal()
                where = redacted(url) if url else str(settings.db_path)  # never the password
                detail = getattr(exc, "detail", None) or str(exc)
                error(
                    f"{where}: the database went away during the tick ({detail}). Nothing will be "
                    "posted twice: once the database is back, run `lambert daily tick` again; it "
                    "settles the days this tick left (a post caught mid-way is reported unknown)."
                )
                return 1
    return output(args, report.as_json(), _summary(report, at))


def _dry_run(args: argparse.Namespace, at: datetime, due: list[Due]) -> int:
    """What a tick at `at` would do, as JSON or a line each."""
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


DRY_RUN_VERBS = {"post": "post", "retry": "retry", "miss": "record as missed", "give_up": "give up"}


def _summary(report: TickReport, at: datetime) -> str:
    """The tick's outcomes, a line each: what was posted (its quote), missed, failed (why, and
    when it is retried) or of unknown outcome (why)."""
    from bot.daily.report import utc_text

    lines = []
    for kind, items in report.as_json().items():
        for i in items:
            detail = i.get("reason") or i.get("quote_id")
            later = f", retry at {i['retry_at_utc']}" if i.get("retry_at_utc") else ""
            detail = f": {detail}{later}" if detail else ""
            lines.append(f"  {kind} {i['platform']}/{i['channel']} {i['local_date']}{detail}")
    return "\n".join([f"daily tick at {utc_text(at)}", *(lines or ["  nothing due"])])
