"""The stats in the shared state: stats_counts and stats_empty_searches."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.stats.store import CountKey, Scope, WordsKey
from bot.storage.engine import rows
from bot.storage.schema import insert, stats_counts, stats_empty_searches

_counts, _words = stats_counts.c, stats_empty_searches.c


def _scope(table: sa.Table, scope: Scope) -> sa.ColumnElement[bool]:
    if scope.platform is None:
        return sa.true()
    found, space = table.c, scope.space or ""
    if scope.channel is not None:
        return sa.and_(
            found.platform == scope.platform,
            found.channel == scope.channel,
            found.space.in_((space, "")),
        )
    # A workspace or server: its channels, and the space-less daily posts of channels that
    # were used from it.
    used_from = sa.select(_counts.channel).where(
        _counts.platform == scope.platform, _counts.space == space
    )
    return sa.and_(
        found.platform == scope.platform,
        sa.or_(found.space == space, sa.and_(found.space == "", found.channel.in_(used_from))),
    )


def _window(table: sa.Table, since: date, scope: Scope, *by: sa.Column[Any]) -> sa.Select[Any]:
    """Each group of `by` with its `total` from UTC day `since` on."""
    return (
        sa.select(*by, sa.cast(sa.func.sum(table.c.count), sa.BigInteger).label("total"))
        .where(table.c.day >= since, _scope(table, scope))
        .group_by(*by)
    )


class StateStatsStore:
    """Counts by UTC day and place; several processes may add at once, and their counts sum."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, counts: Mapping[CountKey | WordsKey, int], forget: date) -> None:
        """Add the counts, and forget the search words of days before `forget`, atomically."""
        async with self.engine.begin() as conn:
            for table, kind in ((stats_counts, CountKey), (stats_empty_searches, WordsKey)):
                # Sorted: replicas upserting the same rows take their locks in one order.
                keyed: list[Any] = sorted(kv for kv in counts.items() if isinstance(kv[0], kind))
                if not keyed:
                    continue
                key = [c.name for c in table.primary_key]
                add = insert(conn, table)
                await conn.execute(
                    add.on_conflict_do_update(
                        index_elements=key, set_={"count": table.c.count + add.excluded.count}
                    ),
                    [{**k._asdict(), "count": n} for k, n in keyed],
                )
            await conn.execute(stats_empty_searches.delete().where(_words.day < forget))

    async def _totals(self, since: date, scope: Scope, *by: sa.Column[Any]) -> list[sa.Row[Any]]:
        return await rows(self.engine, _window(stats_counts, since, scope, *by).order_by(*by))

    async def tallies(self, since: date, scope: Scope) -> list[sa.Row[Any]]:
        return await self._totals(since, scope, _counts.metric, _counts.name, _counts.detail)

    async def by_day(self, since: date, scope: Scope) -> list[sa.Row[Any]]:
        return await self._totals(since, scope, _counts.day, _counts.metric)

    async def by_channel(self, since: date, scope: Scope) -> list[sa.Row[Any]]:
        """(platform, channel, metric, total, space); a daily post's space '' loses to max()."""
        by = (_counts.platform, _counts.channel, _counts.metric)
        query = _window(stats_counts, since, scope, *by).order_by(*by)
        return await rows(self.engine, query.add_columns(sa.func.max(_counts.space).label("space")))

    async def empty_searches(self, since: date, scope: Scope, limit: int) -> list[tuple[str, int]]:
        """The words of searches that found nothing, most frequent first, at most `limit`."""
        query = _window(stats_empty_searches, since, scope, _words.words)
        found = await rows(self.engine, query.order_by(sa.desc("total"), _words.words).limit(limit))
        return [(row.words, row.total) for row in found]
