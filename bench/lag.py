"""Loop lag: how late a 5 ms ticker on the event loop runs while a corpus loads and in a burst.

A tick due every 5 ms that comes 40 ms late means some step held the loop's thread 40 ms: any
command arriving then waited as long. This is measured here, not asserted in the tests: on a
shared two-core machine the OS alone can delay a tick, so a threshold there would flake.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from bench.context import Bench, label
from bench.report import MISS, PASS, Row, median, p99
from bot.chat.replies import QuoteReply
from bot.runtime import open_core
from tests.support.burst import mixed_requests
from tests.support.corpus_gen import described

TICK = 0.005  # seconds
STALL_TARGET_MS = 100.0  # the longest a command may wait for the loop


@contextlib.asynccontextmanager
async def ticker() -> AsyncIterator[list[float]]:
    """A task that sleeps TICK on the running loop, over and over; yields how late (seconds)
    each tick came, filled in as the block runs."""
    late: list[float] = []

    async def tick() -> None:
        clock = time.perf_counter
        while True:
            due = clock() + TICK
            await asyncio.sleep(TICK)
            late.append(max(0.0, clock() - due))

    task = asyncio.create_task(tick())
    await asyncio.sleep(0)  # the first tick is scheduled before the measured work starts
    try:
        yield late
        await asyncio.sleep(2 * TICK)  # the tick a stall delayed lands, and is counted
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def lag_row(family: str, name: str, late: list[float], note: str) -> Row:
    """Median and p99 lateness of the ticks; the verdict is on the longest stall."""
    ms = [s * 1e3 for s in late] or [0.0]
    longest = max(ms)
    return Row(
        family,
        name,
        len(late),
        "ms",
        median(ms),
        p99(ms),
        f"max ≤ {STALL_TARGET_MS:g} ms",
        f"max {longest:.0f} ms",
        PASS if longest <= STALL_TARGET_MS else MISS,
        note,
        {"max_late_ms": longest, "tick_ms": TICK * 1e3},
    )


async def load_lag_rows(bench: Bench) -> list[Row]:
    """The biggest corpus loaded into a new database, a ticker running throughout."""
    size = bench.big
    bench.corpus(size)  # generated before the ticker starts
    db = bench.fresh_db(f"lag-load-{size}")
    async with ticker() as late:
        started = time.perf_counter()
        async with open_core(bench.settings(size, db)):
            took = time.perf_counter() - started
    during = late
    note = (
        f"lateness of a {TICK * 1e3:g} ms ticker during a {took:.1f} s load (read, parse in a "
        "child process from 1 MB up, validate, insert, index); no platform is connected yet"
    )
    return [lag_row("load", f"loop lag while loading {label(size)}", during, note)]


async def burst_lag_rows(bench: Bench) -> list[Row]:
    """200 mixed commands started at once over the biggest corpus, a ticker running."""
    size = bench.big
    db = await bench.loaded_db(size)
    corpus = described(bench.corpus(size), size)
    async with open_core(bench.settings(size, db)) as core:
        requests = mixed_requests(core, corpus)
        async with ticker() as late:
            started = time.perf_counter()
            replies = await asyncio.gather(*(r.run() for r in requests))
            took = time.perf_counter() - started
    during = late
    quotes = sum(isinstance(r, QuoteReply) for r in replies)
    return [
        lag_row(
            "core",
            f"loop lag in a burst of {len(requests)} commands, {label(size)}",
            during,
            f"lateness of a {TICK * 1e3:g} ms ticker while {len(requests)} mixed commands (themes, "
            f"searches, typos, ids, autocomplete, another, hostile text) ran at once, "
            f"answered in {took:.1f} s ({quotes} quotes)",
        )
    ]
