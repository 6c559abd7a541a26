"""Family 5: N channels due at the same minute, posted through a rate-limited fake platform."""

from __future__ import annotations

import asyncio
import math
import shutil
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.context import REAL, Bench, label
from bench.report import INFO, MISS, PASS, Row
from bot.daily.clock import StoppedClock
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import Schedule
from bot.daily.store import DailyStore
from bot.quotes.models import Quote
from bot.runtime import open_core
from bot.storage.engine import open_engine

FANOUT = "fan-out"
PLATFORM = "discord"
ZONE = "Europe/Berlin"
DUE = datetime(2025, 6, 2, 9, 0, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)  # 09:00 in Berlin
# Posts a second the fake platform accepts: a few times what Discord (50 requests/s) or one
# Slack workspace allow, so the scheduler is tested beyond them, and 10,000 posts take 50 s.
RATE = 200.0
RTT = 0.050  # seconds each post takes on the wire: a typical round trip to Discord or Slack


class RateLimitedPlatform:
    """A DailyPoster standing for a platform and its client library: `rate` posts a second
    go through, each taking `rtt`. Over the rate, the platform answers 429 and the client
    waits for its turn and sends again, as discord.py and slack_sdk do for short waits.

    The limit is a token bucket holding one token, paced on the event loop's clock: each post
    is given the next free slot, `1 / rate` after the one before it (or now, if the platform
    was idle), and sleeps until it. Slots are computed from slots, not from when a sleeper
    woke, so a sleep's overshoot delays one post but never accumulates: while busy the fake
    runs at its rate, no faster and no slower."""

    platform = PLATFORM

    def __init__(self, rate: float, rtt: float) -> None:
        self.rate, self.rtt = rate, rtt
        # Enough posts at once to keep the rate busy (rate × round trip, 10 here), with slack
        # for jitter, as a real poster declares its platform's.
        needed = max(1, math.ceil(1.5 * rate * rtt))
        self.max_in_flight = 1 << (needed - 1).bit_length()  # the next power of two
        self.next_slot = -math.inf  # the loop time the next token is free at
        self.posts: Counter[str] = Counter()
        self.rejected = 0  # 429s: posts that had to wait for their slot
        self.active = self.most_active = 0

    def _wait(self, now: float) -> float:
        """Take the next slot; 0 when it is free now, else the seconds until it."""
        slot = max(now, self.next_slot)
        self.next_slot = slot + 1 / self.rate
        return slot - now

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if (wait := self._wait(asyncio.get_running_loop().time())) > 0:
                self.rejected += 1
                await asyncio.sleep(wait)
            await asyncio.sleep(self.rtt)
            self.posts[channel] += 1
            return f"{channel}-{self.posts[channel]}"
        finally:
            self.active -= 1


async def insert_schedules(
    db: Path,
    url: str,
    rows: list[tuple[str, str, str, datetime]],
    at: clock_time = clock_time(9),
) -> None:
    """Schedules at `at` for (platform, channel, zone, set at), set up in one transaction
    (DailyStore.save_schedules), in the state of `url` or else of the file `db`."""
    async with open_engine(db, url) as engine:
        await DailyStore(engine, lambda _: ()).save_schedules(
            [
                Schedule(platform, channel, at, zone, None, True, "bench", set_at)
                for platform, channel, zone, set_at in rows
            ]
        )


async def fan_out(bench: Bench, n: int, name: str, size: int = REAL) -> Row:
    db = bench.fresh_db(name)
    if size != REAL:
        shutil.copy(await bench.loaded_db(size), db)  # the big corpus, loaded once per run
    async with open_core(bench.settings(size, db)) as core:
        conn = core.quotes.conn
        set_at = DUE - timedelta(hours=1)  # turned on this morning
        channels = [f"{1_000_000 + i}" for i in range(n)]
        await insert_schedules(db, "", [(PLATFORM, c, ZONE, set_at) for c in channels])
        poster = RateLimitedPlatform(RATE, RTT)
        scheduler = Scheduler(
            core.quotes, core.daily.with_clock(StoppedClock(DUE)), {PLATFORM: poster}
        )
        start = time.perf_counter()
        report = await scheduler.tick()
        took = time.perf_counter() - start
        async with conn.execute(
            "SELECT status, count(*) FROM daily_posts GROUP BY status"
        ) as cursor:
            statuses = {row[0]: row[1] for row in await cursor.fetchall()}
    ideal = n / RATE
    duplicates = sum(count - 1 for count in poster.posts.values() if count > 1)
    missing = n - len(poster.posts)
    recorded = statuses.get("posted", 0) == n  # the database agrees with the platform
    ok = took <= 1.1 * ideal and duplicates == 0 and missing == 0 and recorded
    row = Row(
        FANOUT,
        f"{n:,} channels due at once, {poster.max_in_flight} in flight, {label(size)}",
        n,
        "s",
        took,
        target="≤ 1.1 × N / rate; 0 duplicates, 0 missing",
        limit=f"N / rate = {ideal:.1f} s ({RATE:g}/s, {RTT * 1e3:g} ms a post)",
        verdict=PASS if ok else MISS,
        note=f"{n / took:,.0f} posts/s = {ideal / took:.0%} of the rate; {duplicates} duplicates, "
        f"{missing} missing; {poster.most_active} in flight at most",
        extra={
            "duplicates": duplicates,
            "missing": missing,
            "posted_rows": statuses,
            "report_posted": len(report.posted),
            "report_failed": len(report.failed),
            "rejected_429": poster.rejected,
            "most_in_flight": poster.most_active,
            "ratio_to_ideal": took / ideal,
        },
    )
    return row


async def fanout_family(bench: Bench) -> list[Row]:
    n = 500 if bench.quick else 10_000
    rows = [await fan_out(bench, n, "fanout")]
    # The corpus size must not matter: a draw from a shuffle bag reads a few rows.
    big = await fan_out(bench, n // 5, "fanout-big", bench.big)
    big.verdict, big.target = INFO, ""
    rows.append(big)
    return rows
