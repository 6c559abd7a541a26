"""Each channel's shuffle bag in PostgreSQL, drawing from the quotes of this process's corpus."""

from __future__ import annotations

import logging
import random
from datetime import date
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

# The first guess, in order, that this round has not drawn (nor `avoid`), taken into the bag
# and (when $5 is a date) set as that day's quote, all in one statement: one round trip.
_TAKE_FIRST_NOT_DRAWN = (
    "WITH pick AS (SELECT g.id FROM unnest($1::text[]) WITH ORDINALITY AS g(id, n) "
    "WHERE g.id IS DISTINCT FROM $4 AND NOT EXISTS (SELECT 1 FROM daily_bag b "
    "WHERE b.platform = $2 AND b.channel = $3 AND b.quote_id = g.id) ORDER BY g.n LIMIT 1), "
    "added AS (INSERT INTO daily_bag (platform, channel, quote_id) SELECT $2, $3, id FROM pick "
    "RETURNING quote_id), "
    "dated AS (UPDATE daily_posts p SET quote_id = a.quote_id FROM added a "
    "WHERE p.platform = $2 AND p.channel = $3 AND p.local_date = $5::date) "
    "SELECT quote_id FROM added"
)
_DRAWN = "SELECT quote_id FROM daily_bag WHERE platform = $1 AND channel = $2"
# Draws of one channel wait for each other: two catch-up days drawn at once would otherwise
# both find the same quote free. Transaction-scoped, so it is safe behind PgBouncer.
_LOCK_CHANNEL = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"


def lock_key(platform: str, channel: str) -> str:
    """The text whose hash keys the channel's draw lock (`_LOCK_CHANNEL`'s $1)."""
    return f"{platform}/{channel}"


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
        self,
        conn: PgConnection,
        platform: str,
        channel: str,
        theme: str | None,
        *,
        locked: bool = False,
        day: date | None = None,
    ) -> str | None:
        """Take the channel's next quote out of its bag; None only when the corpus is empty.

        `locked`: this transaction already holds the channel's draw lock, taken in an earlier
        statement (so this draw's statements see every draw committed before it).
        `day`: the channel's day whose row gets the quote drawn (its quote_id is set).
        """
        theme, size = await self._resolve(theme)
        if size == 0:
            return None
        if not locked:
            await conn.execute(_LOCK_CHANNEL, lock_key(platform, channel))
        quote_id = await self._pick(conn, platform, channel, theme, size, None, day)
        if quote_id is None:
            await conn.execute(numbered(sql.BAG_EMPTY), platform, channel)
            # A new round may not open with the quote that closed the last one.
            last = None
            if size > 1:
                last = await conn.fetchval(numbered(sql.LAST_SHOWN), platform, channel)
            quote_id = await self._pick(conn, platform, channel, theme, size, last, day)
        return quote_id  # None is unreachable: a fresh round of two or more always has one left

    async def put_back(
        self, conn: PgConnection, platform: str, channel: str, quote_id: str
    ) -> None:
        """Return a quote that was drawn but never posted, so the round still shows it."""
        await conn.execute(numbered(sql.BAG_PUT_BACK), platform, channel, quote_id)

    async def first_guesses(self, theme: str | None) -> tuple[str | None, list[str]] | None:
        """The theme a draw takes from (every quote when `theme` left the corpus) and a first
        batch of random guesses from it, for a caller that checks them against the bag in its
        own statement (the claim's); None when the corpus is empty."""
        theme, size = await self._resolve(theme)
        if size == 0:
            return None
        return theme, await self._guesses(theme, size, _BATCHES[0])

    async def _resolve(self, theme: str | None) -> tuple[str | None, int]:
        """The theme to draw from and its size: every quote's when `theme` has none left."""
        size = await self._size(theme)
        if size == 0 and theme is not None:
            log.warning("theme %r is no longer in the corpus: drawing from every quote", theme)
            theme, size = None, await self._size(None)
        return theme, size

    async def _guesses(self, theme: str | None, size: int, count: int) -> list[str]:
        positions = [self._rng.randrange(size) for _ in range(count)]
        return [q.id for p in positions if (q := await self.quotes.quote_at(p, theme))]

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
        day: date | None,
    ) -> str | None:
        """A uniformly random eligible quote, added to the bag (and set as `day`'s quote), or
        None when none is left this round."""
        for batch in _BATCHES:
            ids = await self._guesses(theme, size, batch)
            found = await conn.fetchval(_TAKE_FIRST_NOT_DRAWN, ids, platform, channel, avoid, day)
            if found is not None:
                return str(found)
        drawn = {row[0] for row in await conn.fetch(_DRAWN, platform, channel)}
        left = [i for i in await self.quotes.quote_ids(theme) if i not in drawn and i != avoid]
        if not left:
            return None
        quote_id = left[self._rng.randrange(len(left))]
        await conn.execute(numbered(sql.BAG_ADD), platform, channel, quote_id)
        if day is not None:
            await conn.execute(numbered(sql.SET_QUOTE), quote_id, platform, channel, day)
        return quote_id
