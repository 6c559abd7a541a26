"""PostgreSQL going away under a running store: a crash and restart, a dropped connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.daily.store import DailyStore
from bot.runtime import Core
from tests.support.postgres import Cluster
from tests.support.state import daily_store

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)


@pytest.fixture
async def store(core: Core, db_path: Path, postgres_url: str) -> AsyncIterator[DailyStore]:
    async with daily_store(db_path, postgres_url, core.quotes) as opened:
        yield opened


async def test_a_crash_and_restart_keeps_every_claim(
    store: DailyStore, postgres_cluster: Cluster
) -> None:
    claim = await store.claim("console", "general", DAY, None, NOW, None)
    assert claim is not None and await store.start_sending(claim)
    await asyncio.to_thread(postgres_cluster.stop, "immediate")  # a crash: no shutdown
    await asyncio.to_thread(postgres_cluster.start)

    # Connections the crash closed are replaced as the pool hands them out (pre-ping).
    assert await store.claim("console", "general", DAY, None, NOW, None) is None
    (record,) = (await store.records_since(DAY)).values()
    assert (record.status, record.quote_id) == ("sending", claim.quote_id)


async def test_a_dropped_idle_connection_never_fails_the_next_call(
    store: DailyStore, postgres_url: str
) -> None:
    """The pool pings a connection before handing it out (pool_pre_ping): one the server
    dropped while it was idle is replaced, and the call goes on (issue 19, point 16)."""
    assert await store.schedules() == []  # the pool now holds an idle connection
    killer = await asyncpg.connect(postgres_url)
    try:
        dropped = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await killer.close()
    assert dropped >= 1
    assert await store.schedules() == []
    assert await store.claim("console", "general", DAY, None, NOW, None) is not None
