"""The PostgreSQL schema: migrated once however many replicas start, a newer one refused, and
no state a PgBouncer in transaction mode would lose (named prepared statements)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

import asyncpg
import pytest

from bot.daily.postgres_store import PostgresDailyStore
from bot.daily.schedules import Schedule
from bot.quotes.store import QuoteStore
from bot.runtime import Core
from bot.storage.connection import DatabaseError
from bot.storage.postgres import LATEST_VERSION, open_pool, redacted, schema_version
from tests.support.postgres import Cluster

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
async def empty_url(postgres_cluster: Cluster, postgres_url: str) -> AsyncIterator[str]:
    """A database lambert never saw (not cloned from the migrated template)."""
    name = postgres_url.rsplit("/", 1)[1] + "_empty"
    admin = await asyncpg.connect(postgres_cluster.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield postgres_cluster.url(name)
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


async def version_of(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await schema_version(conn)
    finally:
        await conn.close()


async def test_replicas_starting_together_migrate_a_new_database_once(empty_url: str) -> None:
    assert await version_of(empty_url) == 0

    async def start() -> None:
        async with open_pool(empty_url, max_size=2) as pool:
            assert await pool.fetchval("SELECT count(*) FROM daily_posts") == 0

    await asyncio.gather(*(start() for _ in range(5)))
    assert await version_of(empty_url) == LATEST_VERSION
    await start()  # and again: nothing left to do


async def test_a_database_from_a_newer_lambert_is_refused_untouched(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE lambert_schema SET version = $1", LATEST_VERSION + 1)
    finally:
        await conn.close()
    with pytest.raises(DatabaseError) as refused:
        async with open_pool(postgres_url):
            pass
    assert f"schema version {LATEST_VERSION + 1} is newer" in str(refused.value)
    assert str(refused.value).startswith(redacted(postgres_url))
    assert await version_of(postgres_url) == LATEST_VERSION + 1


async def test_the_store_leaves_no_prepared_statement_on_a_connection(
    core: Core, postgres_url: str
) -> None:
    """Behind PgBouncer in transaction mode the next transaction may run on another server
    connection: a statement prepared by name on this one would be missing there."""
    quotes: QuoteStore = core.quotes.store
    async with open_pool(postgres_url, max_size=3) as pool:
        store = PostgresDailyStore(pool, quotes)
        schedule = Schedule("console", "general", time(9), "UTC", None, True, "ops", NOW)
        await store.save_schedule(schedule)
        for _ in range(3):
            await asyncio.gather(
                store.schedules(),
                store.claim("console", "general", date(2025, 3, 10), None, NOW, None),
                store.records_since(date(2025, 3, 1)),
                store.latest(),
                store.recover_claims(NOW),
            )
        connections = [await pool.acquire() for _ in range(3)]
        try:
            for conn in connections:
                assert await conn.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
        finally:
            for conn in connections:
                await pool.release(conn)


def test_urls_lose_their_password_and_keep_the_rest() -> None:
    assert redacted("postgresql://bob:s%40cret@db:5432/lambert") == (
        "postgresql://bob:***@db:5432/lambert"
    )
    assert redacted("postgresql://bob@db/lambert") == "postgresql://bob@db/lambert"
    assert redacted("postgresql://db/lambert?sslmode=require") == (
        "postgresql://db/lambert?sslmode=require"
    )
