"""The previews' claims in the shared state's preview_posts table."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import READ
from bot.storage.schema import insert, preview_posts

# A preview's buttons live ten minutes on Discord; Slack replays a click within five and
# removes a preview once posted. A week of claims is far more than either needs.
KEEP = timedelta(days=7)
_claims = preview_posts.c


class StatePreviewStore:  # a PreviewStore
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        # Of concurrent claimants the first insert wins; the others insert nothing (on
        # PostgreSQL a second insert waits for the first one's transaction, then finds it).
        async with self.engine.begin() as conn:
            await conn.execute(preview_posts.delete().where(_claims.claimed_at < now - KEEP))
            took = (
                insert(conn, preview_posts)
                .values(
                    preview_id=preview_id,
                    platform=platform,
                    channel=channel,
                    claimed_at=now,
                    status="posting",
                )
                .on_conflict_do_nothing()
                .returning(_claims.preview_id)
            )
            return (await conn.execute(took)).first() is not None

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        posted = preview_posts.update().where(_claims.preview_id == preview_id)
        async with self.engine.begin() as conn:
            await conn.execute(posted.values(status="posted", message_id=message_id))

    async def release(self, preview_id: str) -> None:
        gone = preview_posts.delete().where(
            _claims.preview_id == preview_id, _claims.status == "posting"
        )
        async with self.engine.begin() as conn:
            await conn.execute(gone)

    async def outcome(self, preview_id: str) -> str | None:
        found = sa.select(_claims.status).where(_claims.preview_id == preview_id)
        async with self.engine.execution_options(**READ).connect() as conn:
            return (await conn.execute(found)).scalar()
