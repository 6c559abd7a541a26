"""Schedules set as if at an earlier instant, for tests that replay a past day.

A schedule counts only the slots after it was set (bot/daily/plan.py), so a test that ticks
at 2025-03-10 (`lambert daily tick --at`) needs a schedule set before then: written through
DailyService.turn_on on a stopped clock, as `lambert daily set` would have written it then.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.cli.daily import SET_BY
from bot.config import load_settings
from bot.daily.clock import StoppedClock
from bot.daily.schedules import EVERY_DAY, parse_local_time
from bot.runtime import open_core
from tests.support.postgres import run_in_thread

# The night before the day most tests replay (09:00 Berlin, 2025-03-10): no day before it
# is due or missed.
SET_BEFORE = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)


def set_daily(
    channel: str,
    hhmm: str = "09:00",
    tz: str = "Europe/Berlin",
    *,
    theme: str | None = None,
    weekdays: int = EVERY_DAY,
    platform: str = "console",
    at: datetime = SET_BEFORE,
    db: Path | None = None,
) -> None:
    """`lambert daily set` as run at `at`, on the database the environment (LAMBERT_DB,
    LAMBERT_DATABASE_URL) or `db` names. `theme`: a slug."""
    settings = load_settings(db_path=db)

    async def write() -> None:
        async with open_core(settings, clock=StoppedClock(at)) as core:
            local_time = parse_local_time(hhmm)
            await core.daily.turn_on(platform, channel, local_time, tz, theme, SET_BY, weekdays)

    run_in_thread(write())
