"""The previews' claims in the SQLite file: the preview_posts table."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from bot.platforms import checked_prefix
from bot.previews import statements as sql
from bot.storage.transaction import write_transaction

# A preview's buttons live ten minutes on Discord; Slack replays a click within five and
# removes a preview once posted. A week of claims is far more than either needs.
KEEP = timedelta(days=7)


class SqlitePreviewStore:
    """The preview_posts table of one connection (a PreviewStore)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        async with write_transaction(self.conn):
            await self.conn.execute(
                "DELETE FROM preview_posts WHERE claimed_at < ?", ((now - KEEP).isoformat(),)
            )
            cursor = await self.conn.execute(
                "INSERT OR IGNORE INTO preview_posts (preview_id, platform, channel, claimed_at, "
                "status) VALUES (?, ?, ?, ?, 'posting')",
                (preview_id, platform, channel, now.isoformat()),
            )
        return cursor.rowcount > 0

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        async with write_transaction(self.conn):
            await self.conn.execute(
                "UPDATE preview_posts SET status = 'posted', message_id = ? WHERE preview_id = ?",
                (message_id, preview_id),
            )

    async def release(self, preview_id: str) -> None:
        async with write_transaction(self.conn):
            await self.conn.execute(
                "DELETE FROM preview_posts WHERE preview_id = ? AND status = 'posting'",
                (preview_id,),
            )

    async def outcome(self, preview_id: str) -> str | None:
        async with self.conn.execute(sql.OUTCOME, (preview_id,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def key_bare_channels(self, platform: str, prefix: str) -> int:
        prefix = checked_prefix(prefix)
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(sql.KEY_BARE, (prefix, platform))
        return cursor.rowcount
