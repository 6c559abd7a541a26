"""PostgreSQL going away under a running store: a crash and restart, a dropped connection."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.chat.context import RequestContext
from bot.chat.grammar import answer
from bot.chat.replies import TextReply
from bot.config import Secret, Settings
from bot.daily.store import DailyStore
from bot.runtime import Core, open_core
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


async def test_commands_after_the_server_dropped_the_idle_pool_say_nothing_of_it(
    settings: Settings, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two chat commands on a core whose state is in PostgreSQL; between them the server
    ends every idle connection of the pool. The second answers as the first, and no line
    says anything went wrong (issue 19, point 16): the pool pings a connection before use
    (`pool_pre_ping`), so no statement, and no write that may have committed, is repeated."""
    shared = dataclasses.replace(settings, database_url=Secret(postgres_url))
    ctx = RequestContext(platform="console", channel="general", user="42", admin=True)
    async with open_core(shared) as core:
        first = await answer(core, "daily on 09:00 Europe/Berlin", ctx)
        assert await drop_idle_connections(postgres_url) >= 1
        second = await answer(core, "daily", ctx)
        schedule = await core.daily.store.schedule("console", "general")
    assert isinstance(first, TextReply) and isinstance(second, TextReply)
    assert first.ok and second.ok and "09:00" in " ".join(second.lines)
    assert schedule is not None and schedule.enabled
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def drop_idle_connections(url: str) -> int:
    """pg_terminate_backend on every other connection to this test's database: how many."""
    killer = await asyncpg.connect(url)
    try:
        dropped: int = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await killer.close()
    return dropped
