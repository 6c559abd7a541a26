"""Each channel's shuffle bag: no daily quote repeats in a channel until all have been posted."""

from __future__ import annotations

import logging
import random

import aiosqlite

from bot.store import QuoteStore

log = logging.getLogger(__name__)


class ShuffleBag:
    """The daily_bag table: the quotes each channel has drawn in its current round.

    The bag itself is "eligible quotes not drawn this round", worked out against the quote
    table as it is at each draw: quotes added to the corpus join the current round, removed
    ones are never eligible again, and nothing needs reconciling when the corpus is replaced.
    Call its methods inside a write transaction (bot.schedules.write_transaction).
    """

    def __init__(self, conn: aiosqlite.Connection, rng: random.Random | None = None) -> None:
        self.conn = conn
        self._quotes = QuoteStore(conn)
        self._rng = rng or random.Random()  # noqa: S311 (a shuffle, not a secret)

    async def draw(self, platform: str, channel: str, theme: str | None) -> str | None:
        """Take the channel's next quote out of its bag; None only when the corpus is empty."""
        eligible = await self._quotes.quote_ids(theme)
        if not eligible and theme is not None:
            log.warning("theme %r is no longer in the corpus: drawing from every quote", theme)
            eligible = await self._quotes.quote_ids()
        if not eligible:
            return None
        async with self.conn.execute(
            "SELECT quote_id FROM daily_bag WHERE platform = ? AND channel = ?",
            (platform, channel),
        ) as cursor:
            drawn = {row[0] for row in await cursor.fetchall()}
        remaining = [q for q in eligible if q not in drawn]
        if not remaining:
            await self.conn.execute(
                "DELETE FROM daily_bag WHERE platform = ? AND channel = ?", (platform, channel)
            )
            # A new round may not open with the quote that closed the last one.
            last = await self._last_quote(platform, channel)
            remaining = [q for q in eligible if q != last] or eligible
        quote_id = self._rng.choice(remaining)
        await self.conn.execute(
            "INSERT INTO daily_bag (platform, channel, quote_id) VALUES (?, ?, ?)",
            (platform, channel, quote_id),
        )
        return quote_id

    async def put_back(self, platform: str, channel: str, quote_id: str) -> None:
        """Return a quote that was drawn but never posted, so the round still shows it."""
        await self.conn.execute(
            "DELETE FROM daily_bag WHERE platform = ? AND channel = ? AND quote_id = ?",
            (platform, channel, quote_id),
        )

    async def _last_quote(self, platform: str, channel: str) -> str | None:
        async with self.conn.execute(
            "SELECT quote_id FROM daily_posts WHERE platform = ? AND channel = ? "
            "AND status IN ('posted', 'unknown') ORDER BY local_date DESC LIMIT 1",
            (platform, channel),
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None
