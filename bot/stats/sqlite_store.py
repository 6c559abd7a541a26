"""The stats in the SQLite file: the stats_counts and stats_empty_searches tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import aiosqlite

from bot.platforms import checked_prefix
from bot.stats import statements as sql
from bot.stats.store import (
    ChannelTally,
    CountKey,
    DayTally,
    Scope,
    Tally,
    WordsKey,
)
from bot.storage.transaction import write_transaction


class SqliteStatsStore:
    """The stats tables of one connection (a StatsStore); days are ISO text."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def add(
        self, counts: Mapping[CountKey, int], searches: Mapping[WordsKey, int], forget: date
    ) -> None:
        async with write_transaction(self.conn):
            await self.conn.executemany(
                sql.ADD_COUNT,
                [(k.day.isoformat(), *k[1:], n) for k, n in sorted(counts.items())],
            )
            await self.conn.executemany(
                sql.ADD_WORDS,
                [(k.day.isoformat(), *k[1:], n) for k, n in sorted(searches.items())],
            )
            await self.conn.execute(sql.FORGET_WORDS, (forget.isoformat(),))

    async def _fetch(
        self, statement: str, since: date, scope: Scope, *after: object
    ) -> list[aiosqlite.Row]:
        query, values = sql.scoped(statement, scope)
        rows = await self.conn.execute_fetchall(query, (since.isoformat(), *values, *after))
        return list(rows)

    async def tallies(self, since: date, scope: Scope) -> list[Tally]:
        return [Tally(*r) for r in await self._fetch(sql.TALLIES, since, scope)]

    async def by_day(self, since: date, scope: Scope) -> list[DayTally]:
        rows = await self._fetch(sql.BY_DAY, since, scope)
        return [DayTally(date.fromisoformat(d), m, n) for d, m, n in rows]

    async def by_channel(self, since: date, scope: Scope) -> list[ChannelTally]:
        return [ChannelTally(*r) for r in await self._fetch(sql.BY_CHANNEL, since, scope)]

    async def empty_searches(self, since: date, scope: Scope, limit: int) -> list[tuple[str, int]]:
        rows = await self._fetch(sql.EMPTY_SEARCHES, since, scope, limit)
        return [(w, n) for w, n in rows]

    async def key_bare_channels(self, platform: str, prefix: str) -> int:
        prefix = checked_prefix(prefix)
        async with self.conn.execute(sql.ANY_BARE, (platform, platform)) as cursor:
            if not (await cursor.fetchone() or (0,))[0]:
                return 0  # the usual case: no write transaction
        moved = 0
        async with write_transaction(self.conn):
            for add, drop in sql.KEY_BARE:
                await self.conn.execute(add, (prefix, platform))
                moved += (await self.conn.execute(drop, (platform,))).rowcount
        return moved
