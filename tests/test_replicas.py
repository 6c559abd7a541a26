"""Replicas that cooperate through one PostgreSQL database: each day posted once, whoever dies.

Replicas here are `lambert daily tick` processes (a tick is one scheduler pass, the same code
`serve` runs in a loop) and in-process Schedulers on store connections of their own, which
show the same as `serve` replicas at a fraction of the time. Leases last a few seconds in the
tests that wait for one to expire (LAMBERT_LEASE_SECONDS), not the default minute.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.coordination.lease import Leases, LeaseTerms, owner
from bot.coordination.store import LeaseStore
from bot.daily.clock import Clock
from bot.daily.days import PostStatus
from bot.daily.scheduler import GRACE, Scheduler
from bot.daily.schedules import EVERY_DAY, WEEKDAYS, WEEKENDS, Schedule
from bot.daily.service import DailyService
from bot.daily.store import DailyStore
from bot.runtime import Core
from tests.fakes.daily import FakeClock, RecordingPoster, eventually
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.shim.processes import SHIM, Lambert, lambert_env, wait_for
from tests.support.paths import CORPUS
from tests.support.postgres import Cluster
from tests.support.state import daily_store

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
    pytest.mark.usefixtures("no_process_left_behind"),
]

DUE = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
DAY = date(2025, 3, 10)
SET_AT = datetime(2025, 3, 9, 22, 0, tzinfo=UTC)  # the evening before: no day before counts
AT = ("--at", DUE.isoformat(), "--force")
DISCORD_TOKEN = "MTE0.replica-test-token"


async def save_schedules(url: str, core: Core, platform: str, channels: list[str]) -> None:
    async with daily_store(Path("unused.db"), url, core.quotes) as store:
        for channel in channels:
            schedule = Schedule(
                platform, channel, clock_time(9), "Europe/Berlin", None, True, "ops",
                SET_AT,
            )  # fmt: skip
            await store.save_schedules([schedule])


async def days(url: str) -> dict[str, asyncpg.Record]:
    """Each channel's row of the day, as the database has it."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT * FROM daily_posts WHERE local_date = $1", DAY)
    finally:
        await conn.close()
    return {row["channel"]: row for row in rows}


def replica(
    store: DailyStore,
    core: Core,
    clock: Clock,
    poster: RecordingPoster,
    terms: LeaseTerms | None = None,
) -> Scheduler:
    """A scheduler of its own on `store`, as another replica would run it."""
    leases = Leases(LeaseStore(store.engine), terms or LeaseTerms())
    daily = DailyService(store, clock, leases=leases)
    return Scheduler(core.quotes, daily, {poster.platform: poster})


@pytest.fixture
async def stores(core: Core, postgres_url: str) -> AsyncIterator[list[DailyStore]]:
    """Two stores on the test's database, each of its own engine: two replicas'."""
    where = Path("unused.db")
    async with (
        daily_store(where, postgres_url, core.quotes) as one,
        daily_store(where, postgres_url, core.quotes) as two,
    ):
        yield [one, two]


@pytest.mark.slow
async def test_three_ticks_at_one_instant_post_each_of_500_channels_once(
    tmp_path: Path, core: Core, postgres_url: str
) -> None:
    channels = [f"c{n:03d}" for n in range(500)]
    await save_schedules(postgres_url, core, "console", channels)
    ticks = []
    for n in range(3):
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(SHIM),
            "LAMBERT_DB": str(tmp_path / f"replica-{n}.db"),  # each its own quote tables
            "LAMBERT_CORPUS": str(CORPUS),
            "LAMBERT_DATABASE_URL": postgres_url,
        }
        ticks.append(Lambert(env, "daily", "tick", *AT, "--json"))
    for tick in ticks:
        await tick.start()
    for tick in ticks:
        await tick.finish()
    assert [t.code for t in ticks] == [0, 0, 0], "\n".join(t.err for t in ticks)

    printed = Counter(
        line.split("#", 1)[1].split("]", 1)[0]
        for t in ticks
        for line in (t.out + t.err).splitlines()
        if "[daily quote for #" in line
    )
    assert printed == Counter(channels)  # each printed once, by one of the three
    reported = Counter(p["channel"] for t in ticks for p in json.loads(t.out)["posted"])
    assert reported == Counter(channels)
    rows = await days(postgres_url)
    assert {c: r["status"] for c, r in rows.items()} == dict.fromkeys(channels, "posted")
    assert "may or may not" not in "".join(t.err for t in ticks)


@pytest.mark.slow
async def test_a_replica_killed_mid_fan_out_leaves_its_days_to_another_within_the_lease(
    tmp_path: Path, core: Core, postgres_url: str, stores: list[DailyStore]
) -> None:
    """A tick with a 3 s lease is SIGKILLed while Discord holds its first posts open and the
    rest of its days are claimed, unsent. Another replica's passes leave them while the lease
    lives, then post every unsent one, once; the ones caught sending end `unknown`."""
    lease = 3.0
    channels = [str(1_300_000_000_000_000_000 + n) for n in range(24)]
    discord = RemoteDiscord()
    await discord.start()
    try:
        for n, channel in enumerate(channels):
            discord.channels[f"c{n}"] = int(channel)
        await save_schedules(postgres_url, core, "discord", channels)
        async with RemoteSlack() as slack:
            env = lambert_env(
                tmp_path / "victim.db", discord, slack,
                DISCORD_TOKEN=DISCORD_TOKEN, LAMBERT_DATABASE_URL=postgres_url,
                LAMBERT_LEASE_SECONDS=str(lease),
            )  # fmt: skip
            discord.hold_posts = asyncio.Event()
            victim = await Lambert(env, "daily", "tick", *AT, "--json").start()
            await wait_for(
                lambda: len(discord.posts) >= 8 or not victim.running, "8 posts held open"
            )
            for _ in range(500):
                if len(await days(postgres_url)) == len(channels) or not victim.running:
                    break
                await asyncio.sleep(0.01)
            assert victim.running, victim.err
            victim.kill()
            killed = time.monotonic()
            await victim.finish()
            discord.hold_posts.set()
    finally:
        await discord.stop()
    in_flight = {p.channel for p in discord.posts}
    assert len(in_flight) == 8 and all(p.pid == victim.pid for p in discord.posts)
    held = await days(postgres_url)
    assert len(held) == len(channels)

    clock = FakeClock(DUE)
    poster = RecordingPoster("discord", clock)
    other = replica(stores[1], core, clock, poster, LeaseTerms.lasting(lease))
    first = await other.tick()  # at once: the dead one's lease is still live
    assert (first.posted, first.failed) == ([], [])
    assert {c: r["status"] for c, r in (await days(postgres_url)).items()} == {
        c: r["status"] for c, r in held.items()
    }
    while any(r["status"] in ("claimed", "sending") for r in (await days(postgres_url)).values()):
        assert time.monotonic() - killed < lease + 5, "the dead replica's days were not taken back"
        await other.tick()
        await asyncio.sleep(0.1)
    taken_back = time.monotonic() - killed
    assert taken_back <= lease + 5  # the bound: the lease, then one pass (here 0.1 s apart)

    rows = await days(postgres_url)
    statuses = {c: r["status"] for c, r in rows.items()}
    assert statuses == {c: "unknown" if c in in_flight else "posted" for c in channels}
    assert Counter(p.channel for p in poster.posts) == Counter(set(channels) - in_flight)
    assert all("stopped while posting" in rows[c]["reason"] for c in in_flight)


@pytest.mark.slow
async def test_replicas_ride_out_a_postgres_restart_mid_fan_out(
    core: Core,
    postgres_url: str,
    postgres_cluster: Cluster,
    stores: list[DailyStore],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two `serve`-like scheduler loops; the server crashes and restarts (`-m immediate`)
    while their posts are under way. The pools reconnect, the writes that failed are made
    again, neither loop stops, and each day is posted exactly once."""
    caplog.set_level(logging.INFO, logger="bot.daily.service")  # a write's retries: INFO
    channels = [f"c{n:02d}" for n in range(40)]
    await save_schedules(postgres_url, core, "console", channels)
    gate = asyncio.Event()
    clocks = [FakeClock(DUE), FakeClock(DUE)]
    posters = [RecordingPoster("console", clock) for clock in clocks]
    for poster in posters:
        poster.gates["*"] = gate
    loops = [
        replica(store, core, clock, poster)
        for store, clock, poster in zip(stores, clocks, posters, strict=True)
    ]
    stop = asyncio.Event()
    running = [asyncio.create_task(loop.run(stop)) for loop in loops]
    try:
        for _ in range(1000):
            if len(await days(postgres_url)) == len(channels):
                break
            await asyncio.sleep(0.01)
        await eventually(lambda: sum(p.active for p in posters) > 0, "posts under way")

        await asyncio.to_thread(postgres_cluster.stop, "immediate")
        # While it is down: the posts under way finish, their outcomes cannot be written,
        # the next ones cannot be marked sending, and a pass fails.
        gate.set()
        await eventually(lambda: sum(len(p.posts) for p in posters) > 0, "posts done")
        for clock in clocks:
            clock.advance_to(clock.now() + timedelta(minutes=1))
        # The server stays down until the loops have met it: a write and a pass have failed.
        await eventually(
            lambda: (
                "recording it posted failed" in caplog.text
                and "daily scheduler pass failed" in caplog.text
            ),
            "writes and a pass to fail while the server is down",
        )
        await asyncio.to_thread(postgres_cluster.start)

        for _ in range(300):  # each turn: the loops' next pass is due (a minute on)
            rows = await days(postgres_url)
            if len(rows) == len(channels) and all(r["status"] == "posted" for r in rows.values()):
                break
            assert not any(task.done() for task in running), "a scheduler loop stopped"
            for clock in clocks:
                if clock.next_wake is not None and not any(p.active for p in posters):
                    clock.advance_to(clock.now() + timedelta(minutes=1))
            await asyncio.sleep(0.05)
        assert not any(task.done() for task in running)
    finally:
        gate.set()
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running), 30)

    rows = await days(postgres_url)
    assert {c: r["status"] for c, r in rows.items()} == dict.fromkeys(channels, "posted")
    assert Counter(p.channel for poster in posters for p in poster.posts) == Counter(channels)
    # It did happen mid-way: writes were tried again, and a pass failed and was retried.
    assert "recording it posted failed" in caplog.text
    assert "daily scheduler pass failed; trying again" in caplog.text


@pytest.fixture
async def three_stores(
    core: Core, db_path: Path, backend_url: str | None
) -> AsyncIterator[list[DailyStore]]:
    """Three replicas' stores on one database, each through an engine of its own."""
    async with (
        daily_store(db_path, backend_url, core.quotes) as one,
        daily_store(db_path, backend_url, core.quotes) as two,
        daily_store(db_path, backend_url, core.quotes) as three,
    ):
        yield [one, two, three]


@pytest.mark.parametrize("days", [EVERY_DAY, WEEKDAYS], ids=["every-day", "weekdays"])
async def test_a_replica_ten_minutes_off_neither_double_posts_nor_steals_a_live_lease(
    core: Core, three_stores: list[DailyStore], caplog: pytest.LogCaptureFixture, days: int
) -> None:
    """Leases never read a host's clock: replicas whose clocks are 10 minutes ahead and
    behind leave a live replica's days alone, and post nothing it posted. Channels on
    weekends only are left alone on this Monday by every one of them."""
    mine, ahead, behind = three_stores
    channels = [f"c{n}" for n in range(6)]
    for channel, on in [
        *((c, days) for c in channels),
        ("sat-sun-1", WEEKENDS),
        ("sat-sun-2", WEEKENDS),
    ]:
        at = SET_AT
        schedule = Schedule(
            "console", channel, clock_time(9), "Europe/Berlin", None, True, "o", at, None, on
        )
        await mine.save_schedules([schedule])
    clock = FakeClock(DUE)
    poster = RecordingPoster("console", clock)
    poster.gates["*"] = asyncio.Event()
    live = asyncio.create_task(replica(mine, core, clock, poster).tick())
    try:
        await eventually(lambda: poster.active == poster.max_in_flight, "posts under way")
        for _ in range(500):  # the rest are being claimed meanwhile
            if len(held := await mine.records_since(DAY)) == len(channels):
                break
            await asyncio.sleep(0.01)
        assert len(held) == len(channels)

        others = []
        for store, off in ((ahead, timedelta(minutes=10)), (behind, -timedelta(minutes=10))):
            skewed = FakeClock(DUE + off)
            others.append(RecordingPoster("console", skewed))
            report = await replica(store, core, skewed, others[-1]).tick()
            assert (report.posted, report.missed, report.failed) == ([], [], [])
        assert await mine.records_since(DAY) == held  # untouched: the lease is live
        assert "may or may not" not in caplog.text and "never sent" not in caplog.text
    finally:
        poster.gates["*"].set()
    report = await live
    assert sorted(p["channel"] for p in report.posted) == channels

    for store, off in ((ahead, timedelta(minutes=10)), (behind, -timedelta(minutes=10))):
        skewed = FakeClock(DUE + off + timedelta(hours=1))
        again = await replica(store, core, skewed, others[0]).tick()
        assert again.posted == []
    assert Counter(p.channel for p in poster.posts) == Counter(channels)
    assert [p for other in others for p in other.posts] == []
    statuses = {r.channel: r.status for r in (await mine.records_since(DAY)).values()}
    assert statuses == dict.fromkeys(channels, PostStatus.POSTED)


def berlin_at_nine(channel: str) -> Schedule:
    return Schedule("console", channel, clock_time(9), "Europe/Berlin", None, True, "o", SET_AT)


async def shares(*schedulers: Scheduler) -> list[list[str]]:
    """Four channels falling to each scheduler, once all hold their leases: chosen, so that a
    test never depends on how the leases' tokens hash."""
    workers = {await scheduler.lease.acquire() for scheduler in schedulers}
    found: dict[str | None, list[str]] = {token: [] for token in workers}
    for channel in (f"c{n}" for n in range(200)):
        found[owner(f"console/{channel}", workers)].append(channel)
    return [found[scheduler.lease.token][:4] for scheduler in schedulers]


async def test_three_replicas_each_claim_their_share_of_the_days_due_at_once(
    core: Core, three_stores: list[DailyStore]
) -> None:
    """Three replicas holding their leases (as `serve` does between passes), 90 channels due
    at one instant, their passes at once: 90 claims in all, each replica its share (it was
    every day each, 270), and each day posted once."""
    channels = [f"c{n:02d}" for n in range(90)]
    await three_stores[0].save_schedules([berlin_at_nine(c) for c in channels])
    clock = FakeClock(DUE)
    posters = [RecordingPoster("console", clock) for _ in three_stores]
    schedulers = [
        replica(store, core, clock, poster)
        for store, poster in zip(three_stores, posters, strict=True)
    ]
    for scheduler in schedulers:
        await scheduler.lease.acquire()
    claims: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO daily_posts" in statement:  # a claim: the day's row, with its quote
            claims.append(statement)

    event.listen(Engine, "before_cursor_execute", count)  # every engine: each replica's
    try:
        reports = await asyncio.gather(*(s.tick() for s in schedulers))
    finally:
        event.remove(Engine, "before_cursor_execute", count)

    assert len(claims) == len(channels)
    assert all(poster.posts for poster in posters)  # each replica posted its share
    assert Counter(p.channel for poster in posters for p in poster.posts) == Counter(channels)
    assert sorted(p["channel"] for r in reports for p in r.posted) == channels
    statuses = {r.channel: r.status for r in (await three_stores[1].records_since(DAY)).values()}
    assert statuses == dict.fromkeys(channels, PostStatus.POSTED)


async def test_the_days_of_a_live_but_stuck_replica_are_posted_by_another_after_the_grace(
    core: Core, three_stores: list[DailyStore]
) -> None:
    """A replica holds its lease but makes no pass. Another's loop posts its own share at
    the slot, leaves the stuck one's days to it, wakes `GRACE` later and posts them, once;
    the stuck one, back, finds nothing left to post."""
    stuck_store, live_store, _ = three_stores
    clock = FakeClock(DUE)
    stuck_poster, poster = RecordingPoster("console", clock), RecordingPoster("console", clock)
    stuck = replica(stuck_store, core, clock, stuck_poster)
    live = replica(live_store, core, clock, poster)
    theirs, ours = await shares(stuck, live)
    await live_store.save_schedules([berlin_at_nine(c) for c in theirs + ours])

    stop = asyncio.Event()
    loop = asyncio.create_task(live.run(stop))
    try:
        await eventually(
            lambda: len(poster.posts) == 4 and clock.next_wake == DUE + GRACE,
            "its own share posted, and the loop waiting for the grace to run out",
        )
        assert sorted(p.channel for p in poster.posts) == sorted(ours)
        clock.advance_to(DUE + GRACE)
        await eventually(lambda: len(poster.posts) == 8, "the stuck replica's days posted")
    finally:
        stop.set()
        await asyncio.wait_for(loop, 30)
    assert {p.channel: p.at for p in poster.posts} == {
        **dict.fromkeys(ours, DUE),
        **dict.fromkeys(theirs, DUE + GRACE),
    }

    report = await stuck.tick()  # back at last: its days are posted already
    assert (report.posted, report.failed, stuck_poster.posts) == ([], [], [])
    statuses = {r.channel: r.status for r in (await stuck_store.records_since(DAY)).values()}
    assert statuses == dict.fromkeys(theirs + ours, PostStatus.POSTED)


async def test_a_day_set_just_before_its_slot_is_posted_at_once_by_whichever_replica_wakes(
    core: Core, three_stores: list[DailyStore]
) -> None:
    """A schedule turned on 10 s before its slot: the live replica it falls to may not see it
    before its next rescan, so the replica that wakes at the slot posts it, without a grace."""
    asleep_store, awake_store, _ = three_stores
    clock = FakeClock(DUE)
    poster = RecordingPoster("console", clock)
    asleep = replica(asleep_store, core, clock, RecordingPoster("console", clock))
    awake = replica(awake_store, core, clock, poster)
    theirs, ours = await shares(asleep, awake)
    just_now = DUE - timedelta(seconds=10)
    await awake_store.save_schedules(
        [replace(berlin_at_nine(c), set_at=just_now) for c in theirs + ours]
    )
    report = await awake.tick()
    assert sorted(p["channel"] for p in report.posted) == sorted(theirs + ours)
    assert {p.at for p in poster.posts} == {DUE}
