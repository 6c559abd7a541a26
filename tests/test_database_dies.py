"""PostgreSQL dying mid-tick: `lambert daily tick` ends with one line and a non-zero exit, and
`serve`'s scheduler logs one line per failed pass and goes on (issue 19, point 9)."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

import pytest

from bot.daily import service
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import Schedule
from bot.daily.service import DailyService
from bot.quotes.models import Quote
from bot.runtime import Core
from tests.fakes.daily import FakeClock, eventually
from tests.support.cli import run
from tests.support.paths import CORPUS
from tests.support.postgres import Cluster
from tests.support.schedules import set_daily
from tests.support.state import daily_store

TICK = ["daily", "tick", "--at", "2025-03-10T09:00:00Z", "--force"]
DUE = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
SET_AT = datetime(2025, 3, 9, 22, 0, tzinfo=UTC)


class CrashingScreen:
    """Standard output, where the console poster prints: the database server crashes
    (`-m immediate`) as the first daily post is printed, so the failure lands mid-tick, after
    the claims and before the first post's outcome is recorded."""

    def __init__(self, screen: TextIO, cluster: Cluster) -> None:
        self.screen = screen
        self.cluster = cluster
        self.crashed = False

    def write(self, text: str, /) -> int:
        if not self.crashed and text.startswith("[daily quote"):
            self.crashed = True
            self.cluster.stop("immediate")
        return self.screen.write(text)

    def flush(self) -> None:
        self.screen.flush()


def test_a_tick_whose_database_dies_ends_with_one_line(
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
    postgres_cluster: Cluster,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = ["--db", str(db_path), "--corpus", str(CORPUS), "--database-url", postgres_url]
    monkeypatch.setenv("LAMBERT_DATABASE_URL", postgres_url)
    monkeypatch.setenv("LAMBERT_CORPUS", str(CORPUS))
    for channel in ("general", "random", "news"):
        set_daily(channel, "09:00", "UTC", db=db_path)  # set before the day the tick replays
    monkeypatch.setattr(service, "WRITE_RETRIES", (0.0,))  # a minute of retries, cut short
    screen = CrashingScreen(sys.stdout, postgres_cluster)
    monkeypatch.setattr(sys, "stdout", screen)
    try:
        code, _, err = run(capsys, *TICK, *where)
    finally:
        if screen.crashed:
            postgres_cluster.start()
    assert screen.crashed
    assert code == 1
    (line,) = err.splitlines()  # no retry notice, lease warning or traceback besides
    assert line.startswith(f"lambert: {postgres_url}: the database went away during the tick")
    assert "run `lambert daily tick` again" in line


@dataclass
class CrashingPoster:
    """The console's poster as a scheduler sees it: it records each post, and the database
    server crashes (`-m immediate`) during the first, before its outcome can be written."""

    cluster: Cluster
    platform: str = "console"
    max_in_flight: int = 1
    posts: list[str] = field(default_factory=list)

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        if not self.posts:
            await asyncio.to_thread(self.cluster.stop, "immediate")
        self.posts.append(channel)
        return f"console-{len(self.posts)}"


async def test_serves_scheduler_logs_one_line_per_failed_pass_and_recovers(
    core: Core,
    postgres_url: str,
    postgres_cluster: Cluster,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "WRITE_RETRIES", (0.0,))
    channels = ["general", "random", "news"]
    clock = FakeClock(DUE)
    async with daily_store(Path("unused.db"), postgres_url, core.quotes) as store:
        for channel in channels:
            await store.save_schedules(
                [Schedule("console", channel, time(9), "UTC", None, True, "ops", SET_AT)]
            )
        poster = CrashingPoster(postgres_cluster)
        scheduler = Scheduler(core.quotes, DailyService(store, clock), {"console": poster})
        stop = asyncio.Event()
        running = asyncio.create_task(scheduler.run(stop))
        try:
            # The first pass's own reads may meet the crash too: count from when it settles.
            await eventually(lambda: "scheduler pass failed" in caplog.text, "a failed pass")
            await eventually(lambda: asleep(scheduler, clock), "the loop to sleep")
            failed = failed_passes(caplog)
            for minute in (1, 2):  # two more passes while the server is down: a line each
                clock.advance_to(DUE + timedelta(minutes=minute))
                await eventually(lambda n=failed: failed_passes(caplog) > n, "another failed pass")
                await eventually(lambda: asleep(scheduler, clock), "the loop to sleep")
                assert failed_passes(caplog) == failed + 1
                failed += 1
            assert not running.done(), "the scheduler loop stopped"
            await asyncio.to_thread(postgres_cluster.start)
            clock.advance_to(DUE + timedelta(minutes=3))
            await eventually(lambda: len(poster.posts) == len(channels), "the other posts")
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)
        statuses = {r.key[1]: r.status for r in (await store.records_since(DUE.date())).values()}
    # The post caught mid-way is never sent again; the two left unsent are posted once each.
    first = poster.posts[0]
    assert statuses == {c: "unknown" if c == first else "posted" for c in channels}
    assert sorted(poster.posts) == sorted(channels)
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in lines if r.exc_info or "\n" in r.getMessage()] == []
    assert failed_passes(caplog) == failed  # and none once it was back


def asleep(scheduler: Scheduler, clock: FakeClock) -> bool:
    """The loop waits on the clock with nothing in flight: no pass runs until it moves."""
    return clock.next_wake is not None and not scheduler.posting


def failed_passes(caplog: pytest.LogCaptureFixture) -> int:
    return sum("scheduler pass failed" in r.getMessage() for r in caplog.records)
