"""Family `replicas`, figure (c): a replica SIGKILLed mid-fan-out, and the time to recover.

`python -m bench.replica_kill --victim DB N` is the replica that is killed: one fan-out of N
channels on the PostgreSQL database of LAMBERT_DATABASE_URL, with a short lease.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg

from bench.fanout import DUE, PLATFORM, RATE, RTT, RateLimitedPlatform
from bench.replica_db import (
    DAY,
    FAMILY,
    POSTGRES,
    Backends,
    add_schedules,
    replica_cores,
    settings_for,
)
from bench.report import MISS, PASS, Row
from bot.config import load_settings
from bot.daily.clock import StoppedClock
from bot.daily.scheduler import Scheduler
from bot.runtime import open_core

SETTLED = ("posted", "unknown")
KILL_LEASE_SECONDS = 3.0  # the victim's lease: small, so the bench waits seconds
PASS_EVERY = 0.1  # seconds between the survivor's passes
# Allowed past the lease before the days are back: the next pass (PASS_EVERY), its own work,
# and the watcher's polling of the database.
TAKE_BACK_SLACK = 0.5


async def days_by_status(url: str) -> tuple[Counter[str], set[str]]:
    """Each status's count, and the workers holding claimed or sending days."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT status, worker FROM daily_posts WHERE local_date = $1", DAY)
    finally:
        await conn.close()
    held = {r["worker"] for r in rows if r["status"] in ("claimed", "sending")}
    return Counter(r["status"] for r in rows), held


async def kill_row(backends: Backends, n: int) -> Row:
    """(c): a `victim` process fans out alone on PostgreSQL with a short lease; SIGKILLed
    mid-fan-out. A survivor, passing every PASS_EVERY, takes its days back once the
    lease expires; the clock runs from the kill until every day is posted or unknown."""
    db, url = await backends.fresh(POSTGRES, "kill")
    lease = {"LAMBERT_LEASE_SECONDS": f"{KILL_LEASE_SECONDS:g}"}
    bench = backends.bench
    async with replica_cores(bench, db, url, 1) as (first,):
        await add_schedules(first, db, url, n)
    victim_db = db.with_name("victim.db")
    shutil.copy(db, victim_db)
    env = {**os.environ, **lease, "LAMBERT_DATABASE_URL": url}
    command = [sys.executable, "-m", "bench.replica_kill", "--victim", str(victim_db), str(n)]
    errors = db.with_name("victim.err")
    with errors.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=err
        )
    try:
        async with open_core(settings_for(bench, db, url, **lease)) as core:
            survivor = Scheduler(
                core.quotes,
                core.daily.with_clock(StoppedClock(DUE)),
                {PLATFORM: (poster := RateLimitedPlatform(RATE, RTT))},
            )
            deadline = time.monotonic() + 120
            # Killed once every day is claimed (all unsent ones are the victim's to lose) and a
            # quarter or more posted.
            while (found := (await days_by_status(url))[0]).total() < n or found["posted"] < n // 4:
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the victim stopped early: {errors.read_text()[-2000:]}")
                await asyncio.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            killed = time.perf_counter()
            await proc.wait()
            at_kill, victims = await days_by_status(url)
            unsent = n - at_kill["posted"] - at_kill["sending"]
            taken_back: float | None = None
            settled: float | None = None
            done = asyncio.Event()
            passes = asyncio.create_task(survive(survivor, done))
            try:  # watched from outside the passes: a pass returns once its posts are done
                while settled is None:
                    assert time.perf_counter() - killed < 60 + unsent / RATE, "never recovered"
                    counts, held = await days_by_status(url)
                    now = time.perf_counter() - killed
                    if taken_back is None and not held & victims:
                        taken_back = now
                    if sum(counts[s] for s in SETTLED) == n:
                        settled = now
                    await asyncio.sleep(0.02)
            finally:
                done.set()
                await passes
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert settled is not None and taken_back is not None
    bound = KILL_LEASE_SECONDS + TAKE_BACK_SLACK + 1.1 * unsent / RATE
    duplicates = sum(c - 1 for c in poster.posts.values() if c > 1)
    ok = (
        settled <= bound
        and taken_back <= KILL_LEASE_SECONDS + TAKE_BACK_SLACK
        and counts["unknown"] <= at_kill["sending"]
        and duplicates == 0
    )
    return Row(
        FAMILY,
        f"recovery after a replica is SIGKILLed mid-fan-out, {n:,} channels, {POSTGRES}",
        n,
        "s",
        settled,
        target="≤ lease TTL + one pass + 1.1 × unsent / rate",
        limit=f"{bound:.1f} s: TTL {KILL_LEASE_SECONDS:g} s + {TAKE_BACK_SLACK:g} s + "
        f"{unsent} unsent at {RATE:g}/s",
        verdict=PASS if ok else MISS,
        note=f"days taken back {taken_back:.2f} s after the kill (TTL {KILL_LEASE_SECONDS:g} s); "
        f"at the kill {at_kill['posted']} posted, {at_kill['sending']} sending, {unsent} "
        f"claimed, unsent; after: {dict(counts)}; the survivor posted "
        f"{sum(poster.posts.values())}, {duplicates} twice",
        extra={
            "taken_back_s": taken_back,
            "lease_seconds": KILL_LEASE_SECONDS,
            "at_kill": dict(at_kill),
            "after": dict(counts),
            "survivor_posts": sum(poster.posts.values()),
        },
    )


async def survive(survivor: Scheduler, done: asyncio.Event) -> None:
    """A replica's passes, one every PASS_EVERY as `lambert daily tick` in a loop would make
    them (`serve` makes one at least every minute)."""
    while not done.is_set():
        await survivor.tick()
        await asyncio.sleep(PASS_EVERY)


async def run_victim(db: Path, n: int) -> None:
    """The process (c) kills: one replica's fan-out, settings from the environment."""
    async with open_core(load_settings(db_path=db)) as c:
        poster = RateLimitedPlatform(RATE, RTT)
        await Scheduler(c.quotes, c.daily.with_clock(StoppedClock(DUE)), {PLATFORM: poster}).tick()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.replica_kill")
    parser.add_argument("--victim", type=Path, required=True, help="the replica's quote file")
    parser.add_argument("n", type=int)
    args = parser.parse_args()
    asyncio.run(run_victim(args.victim, args.n))
