"""Family `pass`: what one scheduler pass costs when nothing is due, by how many schedules exist.

N enabled schedules at 09:00 in Berlin, turned on this morning; passes at 08:30, when none is
due, on SQLite and on PostgreSQL (the `replicas` family's server), a 5 ms ticker on the event
loop throughout: `serve` runs these passes on the loop that answers commands. The first pass
is not counted (it opens the pool, and after an upgrade computes every next due instant once).
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.context import Bench
from bench.fanout import DUE, PLATFORM
from bench.lag import lag_row, ticker
from bench.replica_db import (
    POSTGRES,
    SQLITE,
    Backends,
    add_schedules,
    postgres_server,
    replica_cores,
)
from bench.replicas import InstantPlatform
from bench.report import SKIP, Row, timed_row
from bot.daily.clock import StoppedClock
from bot.daily.scheduler import DEFAULT_CATCHUP, Scheduler

FAMILY = "pass"
IDLE = DUE - timedelta(minutes=30)  # 08:30 in Berlin: nothing due before 09:00
PASSES = 7
TARGET_MS = 20.0  # at the largest size: a pass with nothing due costs what is due


async def idle_rows(backends: Backends, backend: str, n: int, largest: bool) -> list[Row]:
    db, url = await backends.fresh(backend, f"idle-{n}")
    async with replica_cores(backends.bench, db, url, 1) as (core,):
        await add_schedules(core, db, url, n)
        daily = core.daily.with_clock(StoppedClock(IDLE))
        scheduler = Scheduler(core.quotes, daily, {PLATFORM: InstantPlatform()})
        await scheduler.tick()
        samples, planned = [], []
        async with ticker() as late:
            for _ in range(PASSES):
                started = time.perf_counter()
                report = await scheduler.tick()
                samples.append(time.perf_counter() - started)
                assert not report.posted, "nothing is due at 08:30"
                started = time.perf_counter()
                assert not await daily.due(DEFAULT_CATCHUP, [PLATFORM])
                planned.append(time.perf_counter() - started)
    name = f"a pass with nothing due, {n:,} schedules, {backend}"
    row = timed_row(
        FAMILY,
        name,
        samples,
        target_ms=TARGET_MS if largest else None,
        note=f"{PASSES} passes of `daily tick` at 08:30 over {n:,} enabled schedules due at 09:00",
    )
    dry = timed_row(
        FAMILY,
        f"`daily tick --dry-run` with nothing due, {n:,} schedules, {backend}",
        planned,
        note="what a pass reads and plans (DailyService.due), without the lease and the "
        "recovery of abandoned days that every pass also writes",
    )
    lag = lag_row(
        FAMILY,
        f"loop lag during those passes, {n:,} schedules, {backend}",
        late,
        f"lateness of a 5 ms ticker during the {PASSES} passes",
    )
    return [row, dry, lag]


async def pass_family(bench: Bench) -> list[Row]:
    with postgres_server() as cluster:
        if cluster is None:
            return [Row(FAMILY, "no PostgreSQL server on this machine", 0, "", None, verdict=SKIP)]
        backends = Backends(bench, cluster)
        sizes = [1_000, 10_000] if bench.quick else [1_000, 10_000, 100_000]
        rows: list[Row] = []
        for backend in (SQLITE, POSTGRES):
            for n in sizes:
                rows += await idle_rows(backends, backend, n, n == sizes[-1] and not bench.quick)
        return rows
