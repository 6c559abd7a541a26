"""Weekday schedules through the scheduler, on SQLite and PostgreSQL: the DST week, catch-up
after an outage, and exactly once across replicas, all on fake clocks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.daily.days import PostStatus
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import WEEKDAYS, WEEKENDS, Schedule
from bot.daily.service import DailyService
from bot.daily.store import DailyStore
from bot.runtime import Core
from tests.fakes.daily import FakeClock, RecordingPoster, running
from tests.support.state import daily_store

SET_AT = datetime(2025, 3, 27, 0, 0, tzinfo=UTC)  # Thursday; Berlin springs forward on Sunday
CATCHUP = timedelta(hours=6)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
async def replicas(
    core: Core, db_path: Path, backend_url: str | None
) -> AsyncIterator[tuple[DailyStore, DailyStore]]:
    """Two stores on one database (the backend's), each through an engine of its own, as two
    processes would open them; the two weekday schedules saved."""
    async with (
        daily_store(db_path, backend_url, core.quotes) as one,
        daily_store(db_path, backend_url, core.quotes) as two,
    ):
        for channel, at, days in (
            ("workdays", time(9), WEEKDAYS),
            ("weekend", time(2, 30), WEEKENDS),
        ):
            schedule = Schedule(
                "console", channel, at, "Europe/Berlin", None, True, "t", SET_AT, None, days
            )
            await one.save_schedules([schedule])
        yield one, two


def scheduler(core: Core, store: DailyStore, poster: RecordingPoster) -> Scheduler:
    daily = DailyService(store, poster.clock)
    rescan = timedelta(days=7)  # no periodic re-reads in the way
    return Scheduler(core.quotes, daily, {"console": poster}, catchup=CATCHUP, rescan=rescan)


async def test_weekday_schedules_keep_dst_catch_up_and_exactly_once(
    core: Core, replicas: tuple[DailyStore, DailyStore]
) -> None:
    one, two = replicas

    # Thursday to Sunday on one process: the weekday slots in winter time, the weekend's
    # 02:30 on Saturday, and on Sunday, when 02:30 does not exist, the moment clocks jump.
    clock = FakeClock(utc("2025-03-27T06:00"))
    poster = RecordingPoster("console", clock)
    async with running(scheduler(core, one, poster), clock) as loop:
        await loop.run_until(utc("2025-03-31T00:00"))
    assert [(p.channel, p.at) for p in poster.posts] == [
        ("workdays", utc("2025-03-27T08:00")),
        ("workdays", utc("2025-03-28T08:00")),
        ("weekend", utc("2025-03-29T01:30")),
        ("weekend", utc("2025-03-30T01:00")),
    ]

    # Down Monday and Tuesday; another process starts Wednesday at 13:00 in Berlin, four
    # hours after 09:00 (summer time now): it catches Wednesday up and posts Thursday and
    # Friday; Monday and Tuesday are recorded missed, the weekend is not its business.
    clock = FakeClock(utc("2025-04-02T11:00"))
    poster = RecordingPoster("console", clock)
    async with running(scheduler(core, two, poster), clock) as loop:
        await loop.run_until(utc("2025-04-04T12:00"))
    assert [(p.channel, p.at) for p in poster.posts] == [
        ("workdays", utc("2025-04-02T11:00")),
        ("workdays", utc("2025-04-03T07:00")),
        ("workdays", utc("2025-04-04T07:00")),
    ]

    # Saturday 02:30 (summer time): both replicas tick at once, twice. One post.
    posters = []
    for at in (utc("2025-04-05T00:30"), utc("2025-04-05T00:31")):
        both = [RecordingPoster("console", FakeClock(at)) for _ in range(2)]
        reports = await asyncio.gather(
            *(scheduler(core, s, p).tick() for s, p in zip((one, two), both, strict=True))
        )
        assert all(r.failed == [] and r.missed == [] for r in reports)
        posters += both
    assert [(p.channel, p.at) for x in posters for p in x.posts] == [
        ("weekend", utc("2025-04-05T00:30"))
    ]

    records = await one.records_since(date(2025, 3, 20))
    statuses = {(c, d.isoformat()): r.status for (_, c, d), r in records.items()}
    posted_on = {
        ("workdays", d)
        for d in ("2025-03-27", "2025-03-28", "2025-04-02", "2025-04-03", "2025-04-04")
    } | {("weekend", d) for d in ("2025-03-29", "2025-03-30", "2025-04-05")}
    missed_on = {("workdays", "2025-03-31"), ("workdays", "2025-04-01")}
    assert statuses == {
        **dict.fromkeys(posted_on, PostStatus.POSTED),
        **dict.fromkeys(missed_on, PostStatus.MISSED),
    }
    # No quote twice in a channel (each draws from its own shuffle bag).
    for channel in ("workdays", "weekend"):
        quotes = [r.quote_id for (_, c, _), r in records.items() if c == channel and r.quote_id]
        assert len(set(quotes)) == len(quotes) == sum(c == channel for c, _ in posted_on)
