"""Each channel's shuffle bag: no daily quote repeats in a channel until all have been posted."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from bot.storage.schema import daily_bag, daily_posts, insert

log = logging.getLogger(__name__)

# Random guesses per claim, checked against the bag in its statement. While at most half the
# round is drawn, all 32 miss with odds under 2**-32; nearer the end of a round the exact
# pick (every drawn id of the channel) takes over.
GUESSES = 32
_bag, _days = daily_bag.c, daily_posts.c

# A claim inserts the day with the first guess its channel's bag has not drawn; of concurrent
# claimants the first insert wins and the others insert nothing (no row: the day is held). A
# NULL quote_id: every guess was drawn (or taken meanwhile), and ShuffleBag.fill draws in
# full. On SQLite, under BEGIN IMMEDIATE's write lock, the guess is then added to the bag.
_SQLITE_CLAIM = (
    "INSERT INTO daily_posts (platform, channel, local_date, status, attempts, claim_token, "
    "claimed_at, worker, quote_id) SELECT :platform, :channel, :day, 'claimed', 1, :token, "
    ":now, :worker, (SELECT g.value FROM json_each(:guesses) AS g WHERE NOT EXISTS (SELECT 1 "
    "FROM daily_bag b WHERE b.platform = :platform AND b.channel = :channel AND b.quote_id = "
    "g.value) ORDER BY g.key LIMIT 1) WHERE true ON CONFLICT DO NOTHING RETURNING quote_id"
)
# On PostgreSQL in one statement: concurrent claimants wait for the first insert's
# transaction. The winner takes its channel's draw lock, then adds the quote to the bag. The
# guesses were checked in the statement's snapshot, taken before the lock: a draw of the
# channel committed meanwhile is caught by the bag's primary key (nothing added, NULL), and
# so is any other, since every drawer holds the lock while it adds.
_PG_CLAIM = (
    "WITH pick AS (SELECT g.id FROM unnest(CAST(:guesses AS text[])) WITH ORDINALITY "
    "AS g(id, n) WHERE NOT EXISTS (SELECT 1 FROM daily_bag b WHERE b.platform = :platform "
    "AND b.channel = :channel AND b.quote_id = g.id) ORDER BY g.n LIMIT 1), "
    "day AS (INSERT INTO daily_posts (platform, channel, local_date, status, attempts, "
    "claim_token, claimed_at, worker, quote_id) VALUES (:platform, :channel, :day, "
    "'claimed', 1, :token, :now, :worker, (SELECT id FROM pick)) "
    "ON CONFLICT DO NOTHING RETURNING quote_id), "
    "locked AS (SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0)) IS NULL AS no "
    "FROM day), "
    "added AS (INSERT INTO daily_bag (platform, channel, quote_id) "
    "SELECT :platform, :channel, d.quote_id FROM day d, locked l "
    "WHERE d.quote_id IS NOT NULL AND NOT l.no ON CONFLICT DO NOTHING RETURNING quote_id) "
    "SELECT (SELECT quote_id FROM added) AS quote_id, (SELECT no FROM locked) AS no FROM day"
)
CLAIM = {
    dialect: sa.text(sql).bindparams(
        sa.bindparam("day", type_=daily_posts.c.local_date.type),
        sa.bindparam("now", type_=daily_posts.c.claimed_at.type),
    )
    for dialect, sql in (("sqlite", _SQLITE_CLAIM), ("postgresql", _PG_CLAIM))
}


def on_channel(table: sa.Table, platform: str, channel: str) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.platform == platform, table.c.channel == channel)


class ShuffleBag:
    """The draws of every channel, inside a write transaction. A channel's bag is the ids the
    quotes service holds in memory (`ids(theme)`, corpus order, () for an unknown theme) less
    its rows of daily_bag: quotes added to the corpus join the round, removed ones are never
    drawn again, and the quote tables are never read."""

    def __init__(
        self, ids: Callable[[str | None], Sequence[str]], rng: random.Random | None = None
    ) -> None:
        self.ids = ids
        self._rng = rng or random.Random()  # noqa: S311 (a shuffle, not a secret)
        self._every: frozenset[str] | None = None

    def knows(self, quote_id: str) -> bool:
        if self._every is None:
            self._every = frozenset(self.ids(None))
        return quote_id in self._every

    def drawable(self, theme: str | None) -> Sequence[str]:
        """The ids a draw takes from: the theme's, or every quote's if it left the corpus."""
        ids = self.ids(theme)
        if not ids and theme is not None:
            log.warning("theme %r is no longer in the corpus: drawing from every quote", theme)
            ids = self.ids(None)
        return ids

    def claim(self, conn: sa.Connection, day: dict[str, Any], ids: Sequence[str]) -> Any:
        """Insert the claimed `day` (platform, channel, day, now, token, worker) with the first
        of random guesses its bag has not drawn (uniform over what is left): its row, None
        when the day is held; a None quote_id needs `fill`."""
        guesses = [self._rng.choice(ids) for _ in range(GUESSES)]
        if (dialect := conn.dialect.name) == "postgresql":
            lock = f"{day['platform']}/{day['channel']}"
            row = conn.execute(CLAIM[dialect], {**day, "guesses": guesses, "lock": lock}).first()
        else:
            row = conn.execute(CLAIM[dialect], {**day, "guesses": json.dumps(guesses)}).first()
            if row is not None and row.quote_id is not None:
                added = {"platform": day["platform"], "channel": day["channel"]}
                conn.execute(daily_bag.insert(), {**added, "quote_id": row.quote_id})
        return row

    def fill(self, conn: sa.Connection, day: dict[str, Any], ids: Sequence[str]) -> str:
        """Draw the quote of a day claimed without one (every guess was drawn) in full."""
        quote_id = self.draw_in_full(conn, day["platform"], day["channel"], ids)
        drawn = daily_posts.update().where(_days.claim_token == day["token"])
        conn.execute(drawn.values(quote_id=quote_id))
        return quote_id

    def draw_in_full(
        self, conn: sa.Connection, platform: str, channel: str, ids: Sequence[str]
    ) -> str:
        """A uniformly random quote of `ids` the round has not drawn, taken into the bag, under
        the channel's draw lock on PostgreSQL (SQLite's BEGIN IMMEDIATE is one)."""
        if conn.dialect.name == "postgresql":
            key = sa.func.hashtextextended(f"{platform}/{channel}", 0)
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        mine = on_channel(daily_bag, platform, channel)
        drawn = set(conn.execute(sa.select(_bag.quote_id).where(mine)).scalars())
        left = [i for i in ids if i not in drawn]
        if not left:  # a new round, never opening with the quote that closed the last
            conn.execute(daily_bag.delete().where(mine))
            shown = _days.status.in_(("posted", "unknown"))
            last = sa.select(_days.quote_id).where(
                on_channel(daily_posts, platform, channel), shown
            )
            last_id = conn.execute(last.order_by(_days.local_date.desc()).limit(1)).scalar()
            left = [i for i in ids if i != last_id or len(ids) == 1]
        quote_id = left[self._rng.randrange(len(left))]
        conn.execute(
            insert(conn, daily_bag)
            .values(platform=platform, channel=channel, quote_id=quote_id)
            .on_conflict_do_nothing()
        )
        return quote_id

    def put_back(self, conn: sa.Connection, platform: str, channel: str, quote_id: str) -> None:
        """Return a quote drawn but never posted, so the round still shows it."""
        mine = on_channel(daily_bag, platform, channel)
        conn.execute(daily_bag.delete().where(mine, _bag.quote_id == quote_id))
