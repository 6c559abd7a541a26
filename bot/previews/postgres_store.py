"""The previews' claims in PostgreSQL, shared by replicas: the preview_posts table."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from bot.platforms import checked_prefix
from bot.previews import statements as sql
from bot.previews.sqlite_store import KEEP
from bot.storage.postgres import numbered


class PostgresPreviewStore:
    """The preview_posts table in PostgreSQL (a PreviewStore)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        # A second claimant's insert waits for the first one's transaction, then finds the row.
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(numbered(sql.FORGET_OLD), now - KEEP)
            took = await conn.fetchval(numbered(sql.CLAIM), preview_id, platform, channel, now)
        return took is not None

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        await self.pool.execute(numbered(sql.POSTED), message_id, preview_id)

    async def release(self, preview_id: str) -> None:
        await self.pool.execute(numbered(sql.RELEASE), preview_id)

    async def outcome(self, preview_id: str) -> str | None:
        status = await self.pool.fetchval(numbered(sql.OUTCOME), preview_id)
        return str(status) if status is not None else None

    async def key_bare_channels(self, platform: str, prefix: str) -> int:
        status = await self.pool.execute(numbered(sql.KEY_BARE), checked_prefix(prefix), platform)
        return int(status.rsplit(" ", 1)[-1])
