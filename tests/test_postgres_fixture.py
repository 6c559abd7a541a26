"""The test server itself: each test has its own migrated database, on loopback."""

from __future__ import annotations

import asyncpg

from bot.storage.engine import head


async def test_each_test_gets_a_migrated_database_of_its_own(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head()
        assert await conn.fetchval("SELECT count(*) FROM daily_schedules") == 0
        await conn.execute("CREATE TABLE mine (x int)")
    finally:
        await conn.close()


async def test_what_one_test_wrote_another_never_sees(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('mine')") is None
    finally:
        await conn.close()
