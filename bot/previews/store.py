"""The previews' claims in the shared state's preview_posts table: a preview posts once."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import rows
from bot.storage.schema import insert, preview_posts

# A preview's buttons live ten minutes on Discord; Slack replays a click within five and
# removes a preview once posted. A week of claims is far more than either needs.
KEEP = timedelta(days=7)
_claims = preview_posts.c


class PreviewStore:
    """A preview is named by its platform (`discord:<interaction id>`, `slack:<team>:...`);
    a claim is unique per name across every process sharing the storage."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        """Take the preview for posting; False if it was taken before (posting or posted)."""
        # Of concurrent claimants the first insert wins; the others insert nothing (on
        # PostgreSQL a second insert waits for the first one's transaction, then finds it).
        async with self.engine.begin() as conn:
            await conn.execute(preview_posts.delete().where(_claims.claimed_at < now - KEEP))
            row = dict(preview_id=preview_id, platform=platform, channel=channel, claimed_at=now)
            took = insert(conn, preview_posts).values(**row, status="posting")
            found = await conn.execute(took.on_conflict_do_nothing().returning(_claims.preview_id))
            return found.first() is not None

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        """The platform took the post (`message_id` when it said which)."""
        posted = preview_posts.update().where(_claims.preview_id == preview_id)
        async with self.engine.begin() as conn:
            await conn.execute(posted.values(status="posted", message_id=message_id))

    async def release(self, preview_id: str) -> None:
        """The post did not go out: the preview may be posted again."""
        gone = preview_posts.delete().where(
            _claims.preview_id == preview_id, _claims.status == "posting"
        )
        async with self.engine.begin() as conn:
            await conn.execute(gone)

    async def outcome(self, preview_id: str) -> str | None:
        """What became of the claim: 'posted', 'posting' (under way, or its answer was lost,
        so it may be in the channel: nobody can say), or None when nothing holds it."""
        found = sa.select(_claims.status).where(_claims.preview_id == preview_id)
        return next((row.status for row in await rows(self.engine, found)), None)
