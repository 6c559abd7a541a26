"""Each channel's shuffle bag: no daily quote repeats in a channel until all have been posted."""

from __future__ import annotations

import json
import logging
import random

import aiosqlite

log = logging.getLogger(__name__)

# Positions guessed per lookup. While at most half the bag is drawn, all 32 miss with odds
# under 2**-32; nearer the end of a round an exact (scanning) pick takes over.
GUESSES = 32

# A quote is eligible when it is in the theme (or any theme) and not yet in this round's bag.
_NOT_DRAWN = (
    "NOT EXISTS (SELECT 1 FROM daily_bag b "
    "WHERE b.platform = ? AND b.channel = ? AND b.quote_id = q.id) AND q.id IS NOT ?"
)


class ShuffleBag:
    """The daily_bag table: the quotes each channel has drawn in its current round.

    The bag itself is "eligible quotes not drawn this round", worked out against the quote
    table as it is at each draw: quotes added to the corpus join the current round, removed
    ones are never eligible again, and nothing needs reconciling when the corpus is replaced.
    A draw reads a handful of rows, never the whole corpus: with 100,000 quotes, reading every
    id per claim made 10,000 channels' posts take an hour (docs/performance.md).
    Call its methods inside a write transaction (bot.schedules.write_transaction).
    """

    def __init__(self, conn: aiosqlite.Connection, rng: random.Random | None = None) -> None:
        self.conn = conn
        self._rng = rng or random.Random()  # noqa: S311 (a shuffle, not a secret)

    async def draw(self, platform: str, channel: str, theme: str | None) -> str | None:
        """Take the channel's next quote out of its bag; None only when the corpus is empty."""
        size = await self._size(theme)
        if size == 0 and theme is not None:
            log.warning("theme %r is no longer in the corpus: drawing from every quote", theme)
            theme, size = None, await self._size(None)
        if size == 0:
            return None
        where = (platform, channel, theme, size)
        quote_id = await self._pick(*where, avoid=None)
        if quote_id is None:
            await self.conn.execute(
                "DELETE FROM daily_bag WHERE platform = ? AND channel = ?", (platform, channel)
            )
            # A new round may not open with the quote that closed the last one.
            last = await self._last_quote(platform, channel) if size > 1 else None
            quote_id = await self._pick(*where, avoid=last)
        if quote_id is None:  # unreachable: a fresh round of two or more always has one left
            return None
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

    async def _size(self, theme: str | None) -> int:
        # Positions are dense 0..n-1 (bot/quotes/store.py): n is the count the themes table keeps.
        sql = "SELECT coalesce(sum(quote_count), 0) FROM themes"
        rows = await self.conn.execute_fetchall(
            sql + (" WHERE slug = ?" if theme else ""), (theme,) if theme else ()
        )
        return int(next(iter(rows))[0])

    async def _pick(
        self, platform: str, channel: str, theme: str | None, size: int, avoid: str | None
    ) -> str | None:
        """A uniformly random eligible quote, or None when none is left this round.

        First rejection sampling: random positions, the first one not drawn wins (uniform over
        what is left), in one indexed query. Only when every guess was drawn already does it
        count what is left and take the k-th: a scan in SQLite, but no rows into Python.
        """
        column, in_theme = ("theme_position", "q.theme = ?") if theme else ("position", "1")
        theme_args = (theme,) if theme else ()
        guesses = json.dumps([self._rng.randrange(size) for _ in range(GUESSES)])
        rows = await self.conn.execute_fetchall(
            f"SELECT q.id FROM json_each(?) g JOIN quotes q ON q.{column} = g.value "
            f"WHERE {in_theme} AND {_NOT_DRAWN} ORDER BY g.key LIMIT 1",
            (guesses, *theme_args, platform, channel, avoid),
        )
        if found := list(rows):
            return str(found[0][0])
        eligible = f"FROM quotes q WHERE {in_theme} AND {_NOT_DRAWN}"
        args = (*theme_args, platform, channel, avoid)
        counted = await self.conn.execute_fetchall(f"SELECT count(*) {eligible}", args)
        left = int(next(iter(counted))[0])
        if left == 0:
            return None
        rows = await self.conn.execute_fetchall(
            f"SELECT q.id {eligible} ORDER BY q.{column} LIMIT 1 OFFSET ?",
            (*args, self._rng.randrange(left)),
        )
        return str(next(iter(rows))[0])

    async def _last_quote(self, platform: str, channel: str) -> str | None:
        async with self.conn.execute(
            "SELECT quote_id FROM daily_posts WHERE platform = ? AND channel = ? "
            "AND status IN ('posted', 'unknown') ORDER BY local_date DESC LIMIT 1",
            (platform, channel),
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None
