"""Each channel's shuffle bag in PostgreSQL, drawing from the quotes of this process's corpus."""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

from bot.daily import statements as sql
from bot.daily.bag import GUESSES
from bot.quotes.store import QuoteStore
from bot.storage.postgres import numbered

if TYPE_CHECKING:
    from bot.storage.postgres import PgConnection

log = logging.getLogger(__name__)

# Guesses are looked up in two batches: while less than half the round is drawn, one of the
# first four is free with odds over 15 in 16, and a draw costs four local lookups, not 32.
_BATCHES = (4, GUESSES - 4)

# The first guess, in order, that this round has not drawn (nor `avoid`).
_FIRST_NOT_DRAWN = (
    "SELECT g.id FROM unnest($1::text[]) WITH ORDINALITY AS g(id, n) "
    "WHERE g.id IS DISTINCT FROM $4 AND NOT EXISTS (SELECT 1 FROM daily_bag b "
    "WHERE b.platform = $2 AND b.channel = $3 AND b.quote_id = g.id) ORDER BY g.n LIMIT 1"
)
_DRAWN = "SELECT quote_id FROM daily_bag WHERE platform = $1 AND channel = $2"
# Draws of one channel wait for each other: two catch-up days drawn at once would otherwise
# both find the same quote free. Transaction-scoped, so it is safe behind PgBouncer.
_LOCK_CHANNEL = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"


class PostgresShuffleBag:
    """The daily_bag table in PostgreSQL; the quotes are in the local SQLite file.

    The same bag as bot/daily/bag.py (eligible quotes of this process's corpus not drawn this
    round; no repeat until the round is over; a new round never opens with the quote that
    closed the last), but the two databases cannot be joined: random positions are looked
    up in the local quote store, and only their ids are checked against the channel's drawn
    ids here, in one query. The first guess not drawn is uniform over what is left. When
    every guess was drawn (the end of a round), the exact pick lists the theme's ids locally
    and the drawn ones here, and takes a uniformly random one of the rest.
    Call its methods inside a transaction of `conn`.
    """

    def __init__(self, quotes: QuoteStore, rng: random.Random | None = None) -> None:
        self.quotes = quotes
        self._rng = rng or random.Random()  # noqa: S311 (a shuffle, not a secret)

    async def draw(
        self, conn: PgConnection, platform: str, channel: str, theme: str | None
    ) -> str | None:
        """Take the channel's next quote out of its bag; None only when the corpus is empty."""
        size = await self._size(theme)
        if size == 0 and theme is not None:
            log.warning("theme %r is no longer in the corpus: drawing from every quote", theme)
            theme, size = None, await self._size(None)
        if size == 0:
            return None
        await conn.execute(_LOCK_CHANNEL, f"{platform}/{channel}")
        quote_id = await self._pick(conn, platform, channel, theme, size, avoid=None)
        if quote_id is None:
            await conn.execute(numbered(sql.BAG_EMPTY), platform, channel)
            # A new round may not open with the quote that closed the last one.
            last = None
            if size > 1:
                last = await conn.fetchval(numbered(sql.LAST_SHOWN), platform, channel)
            quote_id = await self._pick(conn, platform, channel, theme, size, avoid=last)
        if quote_id is None:  # unreachable: a fresh round of two or more always has one left
            return None
        await conn.execute(numbered(sql.BAG_ADD), platform, channel, quote_id)
        return quote_id

    async def put_back(
        self, conn: PgConnection, platform: str, channel: str, quote_id: str
    ) -> None:
        """Return a quote that was drawn but never posted, so the round still shows it."""
        await conn.execute(numbered(sql.BAG_PUT_BACK), platform, channel, quote_id)

    async def _size(self, theme: str | None) -> int:
        # From the themes' counts: counting the quotes themselves reads all of them.
        counts = {t.slug: n for t, n in await self.quotes.themes()}
        return sum(counts.values()) if theme is None else counts.get(theme, 0)

    async def _pick(
        self,
        conn: PgConnection,
        platform: str,
        channel: str,
        theme: str | None,
        size: int,
        avoid: str | None,
    ) -> str | None:
        """A uniformly random eligible quote, or None when none is left this round."""
        for batch in _BATCHES:
            positions = [self._rng.randrange(size) for _ in range(batch)]
            ids = [q.id for p in positions if (q := await self.quotes.quote_at(p, theme))]
            found = await conn.fetchval(_FIRST_NOT_DRAWN, ids, platform, channel, avoid)
            if found is not None:
                return str(found)
        drawn = {row[0] for row in await conn.fetch(_DRAWN, platform, channel)}
        left = [i for i in await self.quotes.quote_ids(theme) if i not in drawn and i != avoid]
        return left[self._rng.randrange(len(left))] if left else None
