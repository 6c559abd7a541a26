"""Family `replicas`: the daily fan-out shared by schedulers on PostgreSQL, beside SQLite.

Three figures, (a) and (b) each beside its SQLite counterpart measured in the same run:
(a) N channels due at once, 1 and 3 replicas, at the fake platform's 200 posts/s; and on 3
    replicas among 10 × N enabled schedules (the rest due tonight), with the loop's worst lag;
    each with the claims the replicas made (N when each claims only its share of the days);
(b) the scheduler's own cost per post against an instant platform (no rate limit);
(c) a replica SIGKILLed mid-fan-out: the time until every channel's day is settled.

The replicas of (a) and (b) are in-process Schedulers, each with its own `open_core` (its
own quote file, its own PostgreSQL pool or SQLite connection, its own worker lease), so the
database sees three clients as it would three processes. They share one RateLimitedPlatform:
a platform's limit is per bot token (Discord's global limit, a Slack workspace's), so
replicas share it whatever process they run in. One event loop runs all three: their CPU is
one core's, so the figure is if anything pessimistic for separate processes. The victim of
(c) is a real process, killed by SIGKILL (bench/replica_kill.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from datetime import time as clock_time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.context import Bench
from bench.fanout import DUE, PLATFORM, RATE, RTT, RateLimitedPlatform
from bench.lag import lag_row, ticker
from bench.replica_db import (
    FAMILY,
    POSTGRES,
    SQLITE,
    Backends,
    add_schedules,
    postgres_server,
    replica_cores,
    statuses,
)
from bench.replica_kill import kill_row
from bench.report import MISS, PASS, SKIP, Row
from bot.daily.clock import StoppedClock
from bot.daily.scheduler import Scheduler
from bot.quotes.models import Quote


class InstantPlatform:
    """A DailyPoster that answers at once: what is left is the scheduler's own work."""

    platform = PLATFORM
    max_in_flight = 16

    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        self.posts[channel] += 1
        return f"{channel}-{self.posts[channel]}"


@contextlib.contextmanager
def counting_claims() -> Iterator[list[int]]:
    """The claims any engine makes in the block (a claim inserts the day's row), as [count]."""
    claims = [0]

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO daily_posts" in statement:
            claims[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield claims
    finally:
        event.remove(Engine, "before_cursor_execute", count)


async def fan_out(
    backends: Backends,
    backend: str,
    replicas: int,
    n: int,
    poster: RateLimitedPlatform | None,
    idle: int = 0,
) -> tuple[float, dict[str, object]]:
    """One pass of every replica at DUE, all at once, with `idle` more schedules not due;
    seconds until the last post's outcome."""
    db, url = await backends.fresh(backend, f"{backend}-{replicas}")
    platform = poster or InstantPlatform()
    async with replica_cores(backends.bench, db, url, replicas) as cores:
        await add_schedules(cores[0], db, url, n)
        if idle:
            await add_schedules(cores[0], db, url, idle, clock_time(21), first=n)
        schedulers = [
            Scheduler(c.quotes, c.daily.with_clock(StoppedClock(DUE)), {PLATFORM: platform})
            for c in cores
        ]
        for scheduler in schedulers:  # held, as `serve` replicas hold theirs between passes
            await scheduler.lease.acquire()
        async with ticker() as late:
            with counting_claims() as claims:
                start = time.perf_counter()
                await asyncio.gather(*(s.tick() for s in schedulers))
                took = time.perf_counter() - start
        found = await statuses(cores[0], url)
    return took, {
        "duplicates": sum(c - 1 for c in platform.posts.values() if c > 1),
        "missing": n - len(platform.posts),
        "posted_rows": found,
        "posts_per_second": n / took,
        "claims": claims[0],
        "late": late,
    }


async def crowd_rows(backends: Backends, n: int, enabled: int) -> list[Row]:
    """N due at once among `enabled` schedules (the rest due tonight), 3 replicas, each
    backend: the passes read the N due, not the `enabled`; with the loop's worst lag."""
    ideal = n / RATE
    rows: list[Row] = []
    for backend in (SQLITE, POSTGRES):
        poster = RateLimitedPlatform(RATE, RTT)
        took, extra = await fan_out(backends, backend, 3, n, poster, idle=enabled - n)
        late = extra.pop("late")
        assert isinstance(late, list)
        posted = extra["posted_rows"] == {"posted": n}
        ok = took <= 1.1 * ideal and extra["duplicates"] == extra["missing"] == 0 and posted
        name = f"{n:,} due at once among {enabled:,} enabled, 3 replicas, {backend}"
        rows.append(
            Row(
                FAMILY,
                name,
                n,
                "s",
                took,
                target="≤ 1.1 × N / rate; 0 duplicates, 0 missing",
                limit=f"N / rate = {ideal:.1f} s ({RATE:g}/s shared)",
                verdict=PASS if ok else MISS,
                note=f"{took / ideal:.2f}× N / rate; {extra['claims']} claims; "
                f"{extra['duplicates']} duplicates, {extra['missing']} missing; "
                f"rows {extra['posted_rows']}",
                extra={**extra, "ratio_to_ideal": took / ideal, "rejected_429": poster.rejected},
            )
        )
        rows.append(
            lag_row(
                FAMILY,
                f"loop lag during that fan-out, {enabled:,} enabled, {backend}",
                late,
                "lateness of a 5 ms ticker on the loop running the three replicas' passes",
            )
        )
    return rows


async def rate_rows(backends: Backends, n: int) -> list[Row]:
    """(a): 1 and 3 replicas on each backend, at the shared 200 posts/s."""
    ideal = n / RATE
    rows: list[Row] = []
    sqlite_took: dict[int, float] = {}
    for backend in (SQLITE, POSTGRES):
        for replicas in (1, 3):
            poster = RateLimitedPlatform(RATE, RTT)
            took, extra = await fan_out(backends, backend, replicas, n, poster)
            posted = extra["posted_rows"] == {"posted": n}
            ok = took <= 1.1 * ideal and extra["duplicates"] == extra["missing"] == 0 and posted
            limit = f"N / rate = {ideal:.1f} s ({RATE:g}/s shared)"
            if backend == SQLITE:
                sqlite_took[replicas] = took
            else:
                limit += f"; SQLite, {replicas} replica{'s' * (replicas > 1)}: "
                limit += f"{sqlite_took[replicas]:.1f} s"
            rows.append(
                Row(
                    FAMILY,
                    f"{n:,} channels due at once, {replicas} replica{'s' * (replicas > 1)}, "
                    f"{backend}",
                    n,
                    "s",
                    took,
                    target="≤ 1.1 × N / rate; 0 duplicates, 0 missing",
                    limit=limit,
                    verdict=PASS if ok else MISS,
                    note=f"{took / ideal:.2f}× N / rate; {extra['claims']} claims; "
                    f"{extra['duplicates']} duplicates, {extra['missing']} missing; "
                    f"rows {extra['posted_rows']}",
                    extra={
                        **extra,
                        "ratio_to_ideal": took / ideal,
                        "rejected_429": poster.rejected,
                    },
                )
            )
    return rows


async def cost_rows(backends: Backends, n: int, rounds: int) -> list[Row]:
    """(b): the scheduler's own time per post, instant platform, alternating backends."""
    per_post: dict[str, list[float]] = {SQLITE: [], POSTGRES: []}
    for _ in range(rounds):
        for backend in per_post:
            took, extra = await fan_out(backends, backend, 1, n, None)
            assert extra["duplicates"] == extra["missing"] == 0, extra
            per_post[backend].append(took / n)
    best = {b: min(v) for b, v in per_post.items()}  # the least disturbed of the rounds
    ratio = best[POSTGRES] / best[SQLITE]
    sqlite = Row(
        FAMILY,
        f"scheduler's cost per post, instant platform, {SQLITE}",
        n,
        "ms",
        best[SQLITE] * 1e3,
        limit=f"{1 / best[SQLITE]:,.0f} posts/s",
        note=f"rounds: {', '.join(f'{s * 1e3:.2f}' for s in per_post[SQLITE])} ms",
    )
    postgres = Row(
        FAMILY,
        f"scheduler's cost per post, instant platform, {POSTGRES}",
        n,
        "ms",
        best[POSTGRES] * 1e3,
        target="≤ 2× SQLite's",
        limit=f"{ratio:.2f}× SQLite's {best[SQLITE] * 1e3:.2f} ms; "
        f"{1 / best[POSTGRES]:,.0f} posts/s",
        verdict=PASS if ratio <= 2 else MISS,
        note=f"rounds: {', '.join(f'{s * 1e3:.2f}' for s in per_post[POSTGRES])} ms",
        extra={"ratio_to_sqlite": ratio},
    )
    return [sqlite, postgres]


async def replicas_family(bench: Bench) -> list[Row]:
    with postgres_server() as cluster:
        if cluster is None:
            return [Row(FAMILY, "no PostgreSQL server on this machine", 0, "", None, verdict=SKIP)]
        backends = Backends(bench, cluster)
        n = 1_000 if bench.quick else 10_000
        rows = await rate_rows(backends, n)
        rows += await crowd_rows(backends, n, 10 * n)
        rows += await cost_rows(backends, 300 if bench.quick else 2_000, 3)
        rows.append(await kill_row(backends, 400 if bench.quick else 2_000))
        return rows
