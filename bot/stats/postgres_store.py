"""The stats in PostgreSQL, summed across replicas: the same tables as the SQLite file's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

import asyncpg

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

if TYPE_CHECKING:
    from asyncpg import Record

_Q = sql.numbered
_LOCK_WRITES = "LOCK TABLE stats_counts, stats_empty_searches IN SHARE ROW EXCLUSIVE MODE"


class PostgresStatsStore:
    """The stats tables in PostgreSQL (a StatsStore); each add is one transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def add(
        self, counts: Mapping[CountKey, int], searches: Mapping[WordsKey, int], forget: date
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            if counts:
                await conn.executemany(
                    _Q(sql.ADD_COUNT), [(*k, n) for k, n in sorted(counts.items())]
                )
            if searches:
                await conn.executemany(
                    _Q(sql.ADD_WORDS), [(*k, n) for k, n in sorted(searches.items())]
                )
            await conn.execute(_Q(sql.FORGET_WORDS), forget)

    async def _fetch(
        self, statement: str, since: date, scope: Scope, *after: object
    ) -> list[Record]:
        query, values = sql.scoped(statement, scope)
        return list(await self.pool.fetch(_Q(query), since, *values, *after))

    async def tallies(self, since: date, scope: Scope) -> list[Tally]:
        return [Tally(*r) for r in await self._fetch(sql.TALLIES, since, scope)]

    async def by_day(self, since: date, scope: Scope) -> list[DayTally]:
        return [DayTally(*r) for r in await self._fetch(sql.BY_DAY, since, scope)]

    async def by_channel(self, since: date, scope: Scope) -> list[ChannelTally]:
        return [ChannelTally(*r) for r in await self._fetch(sql.BY_CHANNEL, since, scope)]

    async def empty_searches(self, since: date, scope: Scope, limit: int) -> list[tuple[str, int]]:
        rows = await self._fetch(sql.EMPTY_SEARCHES, since, scope, limit)
        return [(r["words"], r["count"]) for r in rows]

    async def key_bare_channels(self, platform: str, prefix: str) -> int:
        prefix = checked_prefix(prefix)
        # Every many-workspace start asks; nearly always nothing is bare, and then no
        # replica's counts wait for a lock.
        if not await self.pool.fetchval(_Q(sql.ANY_BARE), platform, platform):
            return 0
        moved = 0
        async with self.pool.acquire() as conn, conn.transaction():
            # No replica adds a count meanwhile: one added between a copy and its drop would
            # be dropped uncounted. Reads go on.
            await conn.execute(_LOCK_WRITES)
            for add, drop in sql.KEY_BARE:
                await conn.execute(_Q(add), prefix, platform)
                status = await conn.execute(_Q(drop), platform)
                moved += int(status.rsplit(" ", 1)[-1])
        return moved
