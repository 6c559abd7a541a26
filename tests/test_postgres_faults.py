"""PostgreSQL going away under a running store: a crash and restart, a dropped connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import pytest

from bot.daily.postgres_store import PostgresDailyStore
from bot.runtime import Core
from bot.storage.postgres import open_pool
from tests.support.postgres import Cluster

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)


@pytest.fixture
async def store(core: Core, postgres_url: str) -> AsyncIterator[PostgresDailyStore]:
    async with open_pool(postgres_url, max_size=2) as pool:
        yield PostgresDailyStore(pool, core.quotes.store)


async def test_a_crash_and_restart_keeps_every_claim(
    store: PostgresDailyStore, postgres_cluster: Cluster
) -> None:
    claim = await store.claim("console", "general", DAY, None, NOW, None)
    assert claim is not None and await store.start_sending(claim)
    await asyncio.to_thread(postgres_cluster.stop, "immediate")  # a crash: no shutdown
    await asyncio.to_thread(postgres_cluster.start)

    # Connections the crash closed are replaced as the pool hands them out.
    assert await store.claim("console", "general", DAY, None, NOW, None) is None
    (record,) = (await store.records_since(DAY)).values()
    assert (record.status, record.quote_id) == ("sending", claim.quote_id)


async def test_a_dropped_connection_fails_at_most_one_call(
    store: PostgresDailyStore, postgres_url: str
) -> None:
    """The store does not retry: a call on a connection the server dropped raises (the
    scheduler's pass catches it and tries again), and the pool replaces the connection."""
    async with store.pool.acquire() as conn:
        pid = conn.get_server_pid()
    killer = await asyncpg.connect(postgres_url)
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await killer.close()
    # The pool held one connection: depending on whether its end was already read, the next
    # call reconnects first or fails (asyncpg may call it an internal client error: the
    # server's goodbye came while the connection was idle); the one after it works.
    with contextlib.suppress(
        asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError
    ):
        await store.schedules()
    assert await store.schedules() == []
