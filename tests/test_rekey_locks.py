"""Keying bare Slack channels on PostgreSQL beside the writes of other replicas: it locks the
daily tables in the order every writer takes them (no deadlock), and takes no lock at all
when nothing is bare (a many-workspace start or tick, nearly always).

Nothing here sleeps: a task is known to wait for a lock when pg_locks shows one not granted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import asyncpg
import pytest

from bot.config import Secret, Settings
from bot.daily.days import PostStatus
from bot.daily.postgres_bag import PostgresShuffleBag
from bot.daily.postgres_store import PostgresDailyStore
from bot.daily.schedules import Schedule
from bot.daily.store import Rekeyed
from bot.runtime import Core, open_core
from bot.stats.store import CountKey, WordsKey

if TYPE_CHECKING:
    from bot.storage.postgres import PgConnection

NOW = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)
PREFIX = "T0AAA/"
BARE = "C0BARE"
KEYED = PREFIX + BARE
# Locks this test's database has asked for and not been given.
WAITING = (
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
    "WHERE NOT l.granted AND d.datname = current_database()"
)
# What any replica's write in flight holds: claim, record_failed, a stats add.
WRITING = (
    "LOCK TABLE daily_posts, daily_bag, daily_schedules, stats_counts, stats_empty_searches "
    "IN ROW EXCLUSIVE MODE"
)


@pytest.fixture
async def pg_core(settings: Settings, postgres_url: str) -> AsyncIterator[Core]:
    async with open_core(replace(settings, database_url=Secret(postgres_url))) as opened:
        yield opened


@pytest.fixture
async def probe(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, as another replica's."""
    conn = await asyncpg.connect(postgres_url)
    yield conn
    await conn.close()


def daily_store(core: Core) -> PostgresDailyStore:
    store = core.daily.store
    assert isinstance(store, PostgresDailyStore)
    return store


def nine(channel: str) -> Schedule:
    return Schedule("slack", channel, time(9), "Europe/Berlin", None, True, "test", NOW)


async def blocked(task: asyncio.Task[object], probe: asyncpg.Connection) -> bool:
    """True once `task` waits for a lock; False if it finishes first."""
    while not task.done():
        if await probe.fetchval(WAITING):
            return True
    return False


class GatedBag(PostgresShuffleBag):
    """Holds record_failed after its daily_posts write, before daily_bag and daily_schedules,
    until the test lets it go."""

    def __init__(self, bag: PostgresShuffleBag) -> None:
        super().__init__(bag.quotes)
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def put_back(
        self, conn: PgConnection, platform: str, channel: str, quote_id: str
    ) -> None:
        self.reached.set()
        await self.go.wait()
        await super().put_back(conn, platform, channel, quote_id)


async def test_a_failing_day_and_keying_at_once_both_finish(
    pg_core: Core, probe: asyncpg.Connection
) -> None:
    store = daily_store(pg_core)
    await store.save_schedule(nine(BARE))
    claim = await store.claim("slack", BARE, DAY, None, NOW, None)
    assert claim is not None
    store.bag = gate = GatedBag(store.bag)

    # record_failed writes daily_posts, then daily_bag, then disables the schedule.
    failing = asyncio.create_task(
        store.record_failed(claim, "channel_not_found", NOW, disable=True)
    )
    await gate.reached.wait()
    keying = asyncio.create_task(store.key_bare_channels("slack", PREFIX))
    assert await blocked(keying, probe)  # waits for the failing day's transaction
    gate.go.set()
    # Locking daily_schedules first, keying held it while waiting for daily_posts, and the
    # failing day's disable waited for it: DeadlockDetectedError.
    _, rekeyed = await asyncio.gather(failing, keying)

    assert rekeyed == Rekeyed(schedules=1, days=1, bags=0)  # the quote went back to the bag
    (schedule,) = await store.schedules()
    assert (schedule.channel, schedule.enabled) == (KEYED, False)
    (record,) = (await store.records_since(DAY)).values()
    assert (record.channel, record.status) == (KEYED, PostStatus.FAILED)


async def test_keying_with_nothing_bare_takes_no_lock(
    pg_core: Core, postgres_url: str, probe: asyncpg.Connection
) -> None:
    store, stats = daily_store(pg_core), pg_core.stats.store
    assert stats is not None
    await store.save_schedule(nine(KEYED))
    assert await store.claim("slack", KEYED, DAY, None, NOW, None) is not None
    counts = {CountKey(DAY, "slack", "T0AAA", KEYED, "command", "random", "quote"): 1}
    await stats.add(counts, {WordsKey(DAY, "slack", "T0AAA", KEYED, "nothing"): 1}, DAY)

    writer = await asyncpg.connect(postgres_url)
    writes = writer.transaction()
    await writes.start()
    await writer.execute(WRITING)
    daily = asyncio.create_task(store.key_bare_channels("slack", PREFIX))
    counted = asyncio.create_task(stats.key_bare_channels("slack", PREFIX))
    try:
        assert not await blocked(daily, probe)
        assert not await blocked(counted, probe)
        assert (daily.result(), counted.result()) == (Rekeyed(), 0)
    finally:
        await writes.rollback()
        await writer.close()
        await asyncio.gather(daily, counted, return_exceptions=True)


async def test_keying_with_something_bare_waits_for_the_writes_in_flight(
    pg_core: Core, postgres_url: str, probe: asyncpg.Connection
) -> None:
    store, stats = daily_store(pg_core), pg_core.stats.store
    assert stats is not None
    await store.save_schedule(nine(BARE))
    counts = {CountKey(DAY, "slack", "T0AAA", BARE, "command", "random", "quote"): 1}
    await stats.add(counts, {}, DAY)

    writer = await asyncpg.connect(postgres_url)
    writes = writer.transaction()
    await writes.start()
    await writer.execute(WRITING)
    daily = asyncio.create_task(store.key_bare_channels("slack", PREFIX))
    counted = asyncio.create_task(stats.key_bare_channels("slack", PREFIX))
    try:
        assert await blocked(daily, probe)
        assert await blocked(counted, probe)
    finally:
        await writes.rollback()
        await writer.close()
    assert await asyncio.gather(daily, counted) == [Rekeyed(schedules=1), 1]
