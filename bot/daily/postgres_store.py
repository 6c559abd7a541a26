"""The daily feature's storage in PostgreSQL, shared by replicas: schedules, days and bags."""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg

from bot.daily import statements as sql
from bot.daily.days import Claim, DayKey, DayRecord, PostStatus
from bot.daily.lease import LeaseTerms, ShardHolder, ShardLease, WorkerLease, first_in_the_way
from bot.daily.postgres_bag import PostgresShuffleBag, lock_key
from bot.daily.schedules import Schedule
from bot.daily.store import Rekeyed
from bot.platforms import checked_prefix
from bot.quotes.store import QuoteStore
from bot.storage.postgres import numbered

if TYPE_CHECKING:
    from asyncpg import Record

_Q = numbered

# A claim in one statement (one round trip, where a transaction of its steps takes several):
# the day is inserted, with the first of the guesses ($7) its channel's bag has not drawn; of
# concurrent claimants the first insert wins, the others wait for its transaction and then
# insert nothing. The winner takes its channel's draw lock, then adds the quote to the bag.
# The guesses were checked in the statement's snapshot, taken before the lock: a draw of the
# channel committed meanwhile is caught by the bag's primary key (nothing is added), and so
# is any other, since every drawer of the channel holds the lock while it adds. The row
# returned (none: another claimant won) has the quote added, or NULL: then the claimant,
# holding the lock, draws in full in later statements of the same transaction.
_CLAIM = (
    "WITH pick AS (SELECT g.id FROM unnest($7::text[]) WITH ORDINALITY AS g(id, n) "
    "WHERE NOT EXISTS (SELECT 1 FROM daily_bag b WHERE b.platform = $1 AND b.channel = $2 "
    "AND b.quote_id = g.id) ORDER BY g.n LIMIT 1), "
    "day AS (INSERT INTO daily_posts (platform, channel, local_date, status, attempts, "
    "claim_token, claimed_at, worker, quote_id) "
    "VALUES ($1, $2, $3, 'claimed', 1, $4, $5, $6, (SELECT id FROM pick)) "
    "ON CONFLICT DO NOTHING RETURNING quote_id), "
    "locked AS (SELECT pg_advisory_xact_lock(hashtextextended($8, 0)) IS NULL AS no FROM day), "
    "added AS (INSERT INTO daily_bag (platform, channel, quote_id) "
    "SELECT $1, $2, d.quote_id FROM day d, locked l WHERE d.quote_id IS NOT NULL AND NOT l.no "
    "ON CONFLICT DO NOTHING RETURNING quote_id) "
    "SELECT (SELECT quote_id FROM added) AS quote_id, (SELECT no FROM locked) AS no FROM day"
)


# The server's clock: every replica's lease is timed by it, whatever the replicas' clocks say.
_LEASES = sql.lease_sql("now()", "now() + make_interval(secs => ?)")
_SHARDS = sql.shard_lease_sql(
    "now()", "now() + make_interval(secs => ?)", "extract(epoch FROM expires_at - now())::float8"
)
# In the order every writing transaction here takes the tables: daily_posts first (claim,
# reclaim, record_failed, give_up), then daily_bag (the draw or put_back), then
# daily_schedules (record_failed's disable). LOCK TABLE takes them one by one, so this waits
# for a writer holding daily_posts while holding nothing itself; in any other order it could
# hold a table such a writer then waits for, and the two deadlock.
_LOCK_DAILY_WRITES = (
    "LOCK TABLE daily_posts, daily_bag, daily_schedules IN SHARE ROW EXCLUSIVE MODE"
)
_SHARD_LOCK = 0x6C616D73  # pg_advisory_xact_lock key for taking shard leases ("lams")


class _NothingToDraw(Exception):
    """The corpus is empty: the claim's transaction is rolled back."""


def _schedule(row: Record) -> Schedule:
    return Schedule(
        platform=row["platform"],
        channel=row["channel"],
        local_time=row["local_time"],
        tz=row["tz"],
        theme=row["theme"],
        enabled=row["enabled"],
        set_by=row["set_by"],
        set_at=row["set_at"],
        disabled_reason=row["disabled_reason"],
    )


def _record(row: Record) -> DayRecord:
    return DayRecord(
        platform=row["platform"],
        channel=row["channel"],
        local_date=row["local_date"],
        status=PostStatus(row["status"]),
        quote_id=row["quote_id"],
        message_id=row["message_id"],
        reason=row["reason"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        claimed_at=row["claimed_at"],
        worker=row["worker"],
        resend_until=row["resend_until"],
    )


def _count(status: str) -> int:
    """Rows a command touched, from asyncpg's status text (`UPDATE 1`, `INSERT 0 1`)."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresDailyStore:
    """The daily tables in PostgreSQL (a DailyStore); the quotes stay in the local SQLite file.

    Every method that writes more than one row runs in one transaction of a pooled connection.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        quotes: QuoteStore,
        rng: random.Random | None = None,
        *,
        lease: LeaseTerms | None = None,
    ) -> None:
        self.pool = pool
        self._quotes = quotes
        self.bag = PostgresShuffleBag(quotes, rng)
        self.lease_terms = lease or LeaseTerms()

    def worker_lease(self) -> WorkerLease:
        return WorkerLease(self, self.lease_terms)

    async def hold_lease(self, token: str, holder: str, ttl: timedelta) -> bool:
        seconds = ttl.total_seconds()
        async with self.pool.acquire() as conn, conn.transaction():
            if _count(await conn.execute(_Q(_LEASES.renew), seconds, token)) > 0:
                return True
            await conn.execute(_Q(_LEASES.take), token, holder, seconds)
        return False

    async def drop_lease(self, token: str) -> None:
        await self.pool.execute(_Q(_LEASES.drop), token)

    def shard_lease(self) -> ShardLease:
        return ShardLease(self, self.lease_terms)

    async def hold_shards(
        self,
        token: str,
        holder: str,
        application: str,
        shards: tuple[int, ...],
        count: int,
        ttl: timedelta,
    ) -> ShardHolder | None:
        async with self.pool.acquire() as conn, conn.transaction():
            # One taker at a time: checking and taking must be one step across replicas.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _SHARD_LOCK)
            rows = await conn.fetch(_Q(_SHARDS.others), application, token)
            if (taken := first_in_the_way(rows, shards, count)) is not None:
                return taken
            await conn.executemany(
                _Q(_SHARDS.take),
                [(application, s, count, token, holder, ttl.total_seconds()) for s in shards],
            )
        return None

    async def drop_shards(self, token: str) -> None:
        await self.pool.execute(_Q(_SHARDS.drop), token)

    async def save_schedule(self, schedule: Schedule) -> None:
        await self.pool.execute(
            _Q(sql.SAVE_SCHEDULE),
            schedule.platform,
            schedule.channel,
            schedule.local_time,
            schedule.tz,
            schedule.theme,
            schedule.enabled,
            schedule.disabled_reason,
            schedule.set_by,
            schedule.set_at,
        )

    async def turn_off(self, platform: str, channel: str, by: str, at: datetime) -> bool:
        return _count(await self.pool.execute(_Q(sql.TURN_OFF), by, at, platform, channel)) > 0

    async def turn_off_where(self, platform: str, channel_prefix: str, reason: str) -> int:
        rows = await self.pool.fetch(
            _Q(sql.DISABLE_WHERE), reason, platform, len(channel_prefix), channel_prefix
        )
        return len(rows)

    async def key_bare_channels(self, platform: str, prefix: str) -> Rekeyed:
        prefix = checked_prefix(prefix)
        # Every many-workspace start and tick asks; nearly always nothing is bare, and then no
        # replica's daily writes wait for a lock.
        if not await self.pool.fetchval(_Q(sql.ANY_BARE), *[platform] * 3):
            return Rekeyed()
        counts = []
        async with self.pool.acquire() as conn, conn.transaction():
            # No replica writes a daily row meanwhile (a bare day claimed between a rename and
            # its drop would be dropped); reads go on.
            await conn.execute(_LOCK_DAILY_WRITES)
            bags = await conn.fetchval(_Q(sql.BARE_BAGS), platform)
            for rename, drop in (sql.KEY_BARE_SCHEDULES, sql.KEY_BARE_DAYS, sql.KEY_BARE_BAG):
                renamed = await conn.execute(_Q(rename), prefix, platform, prefix)
                counts.append(_count(renamed) + _count(await conn.execute(_Q(drop), platform)))
        return Rekeyed(counts[0], counts[1], int(bags))

    async def schedule(self, platform: str, channel: str) -> Schedule | None:
        row = await self.pool.fetchrow(_Q(sql.SCHEDULE), platform, channel)
        return _schedule(row) if row else None

    async def schedules(self) -> list[Schedule]:
        return [_schedule(row) for row in await self.pool.fetch(sql.SCHEDULES)]

    async def records_since(self, day: date) -> dict[DayKey, DayRecord]:
        rows = await self.pool.fetch(_Q(sql.RECORDS_SINCE), day)
        return {r.key: r for r in map(_record, rows)}

    async def latest(self) -> dict[tuple[str, str], DayRecord]:
        rows = await self.pool.fetch(sql.LATEST)
        return {(r.platform, r.channel): r for r in map(_record, rows)}

    async def claim(
        self,
        platform: str,
        channel: str,
        day: date,
        theme: str | None,
        now: datetime,
        worker: str | None = None,
    ) -> Claim | None:
        token = uuid.uuid4().hex
        if (first := await self.bag.first_guesses(theme)) is None:
            return None  # nothing to draw: the day is not claimed
        theme, guesses = first
        key = lock_key(platform, channel)
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    _CLAIM, platform, channel, day, token, now, worker, guesses, key
                )
                if row is None:
                    return None
                quote_id = row["quote_id"]
                if quote_id is None:  # every guess drawn, or taken meanwhile: draw in full
                    quote_id = await self.bag.draw(
                        conn, platform, channel, theme, locked=True, day=day
                    )
                if quote_id is None:
                    raise _NothingToDraw
        except _NothingToDraw:
            return None
        return Claim(platform, channel, day, quote_id, token, 1)

    async def reclaim(
        self, record: DayRecord, theme: str | None, now: datetime, worker: str | None = None
    ) -> Claim | None:
        token = uuid.uuid4().hex
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                _Q(sql.RECLAIM) + " RETURNING quote_id, attempts, resend_until",
                token,
                now,
                worker,
                *record.key,
            )
            if row is None:
                return None
            quote_id = row["quote_id"] or ""
            if await self._quotes.quote_by_id(quote_id) is None:
                # The corpus changed since the first attempt and this quote left it.
                quote_id = await self.bag.draw(conn, record.platform, record.channel, theme) or (
                    quote_id
                )
                await conn.execute(_Q(sql.SET_QUOTE), quote_id, *record.key)
        return Claim(
            record.platform,
            record.channel,
            record.local_date,
            quote_id,
            token,
            row["attempts"],
            row["resend_until"],
        )

    async def record_missed(self, platform: str, channel: str, day: date, now: datetime) -> bool:
        status = await self.pool.execute(_Q(sql.MISSED), platform, channel, day, now, now)
        return _count(status) > 0

    async def start_sending(self, claim: Claim) -> bool:
        return _count(await self.pool.execute(_Q(sql.START_SENDING), claim.token)) > 0

    async def record_posted(self, claim: Claim, message_id: str, now: datetime) -> None:
        await self.pool.execute(_Q(sql.POSTED), message_id, now, claim.token)

    async def record_retry(
        self,
        claim: Claim,
        reason: str,
        retry_at: datetime,
        now: datetime,
        *,
        resend_until: datetime | None = None,
    ) -> None:
        await self.pool.execute(_Q(sql.RETRY), reason, retry_at, now, resend_until, claim.token)

    async def record_unknown(self, claim: Claim, reason: str, now: datetime) -> None:
        await self.pool.execute(_Q(sql.UNKNOWN), reason, now, claim.token)

    async def record_failed(
        self, claim: Claim, reason: str, now: datetime, *, disable: bool
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_Q(sql.FAILED), reason, now, claim.token)
            if any(row["status"] == PostStatus.FAILED for row in rows):
                await self.bag.put_back(conn, claim.platform, claim.channel, claim.quote_id)
            if disable:
                await conn.execute(_Q(sql.DISABLE), reason, claim.platform, claim.channel)

    async def give_up(self, record: DayRecord, reason: str, now: datetime) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_Q(sql.GIVE_UP), reason, now, *record.key)
            if any(row["status"] == PostStatus.FAILED for row in rows) and record.quote_id:
                await self.bag.put_back(conn, record.platform, record.channel, record.quote_id)
        return bool(rows)

    async def recover_claims(
        self, now: datetime, worker: str | None = None, tracked: Collection[str] = ()
    ) -> tuple[list[DayRecord], list[DayRecord]]:
        """Settle the held days of gone schedulers, as SqliteDailyStore.recover_claims does.

        Nothing is locked: each day is settled by a statement guarded by the claim and status
        it was found with, so of replicas recovering at once one settles it, and a claim made
        since (by a live replica) is left alone.
        """
        retried, unknown = [], []
        async with self.pool.acquire() as conn:
            for row in await conn.fetch(_LEASES.held):
                mine = worker is not None and row["worker"] == worker
                if row["live"] and not (mine and row["claim_token"] not in tracked):
                    continue
                record, token = _record(row), row["claim_token"]
                if record.status is PostStatus.CLAIMED:
                    if _count(await conn.execute(_Q(sql.RECOVER_CLAIMED), now, token)):
                        retried.append(record)
                elif _count(
                    await conn.execute(
                        _Q(sql.RECOVER_SENDING), sql.STOPPED_WHILE_POSTING, now, token
                    )
                ):
                    unknown.append(record)
            await conn.execute(_LEASES.purge)
        return retried, unknown
