"""The daily feature's storage in the SQLite file: schedules, days and shuffle bags."""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection
from datetime import date, datetime, time, timedelta

import aiosqlite

from bot.daily import statements as sql
from bot.daily.bag import ShuffleBag
from bot.daily.days import Claim, DayKey, DayRecord, PostStatus
from bot.daily.lease import LeaseTerms, ShardHolder, ShardLease, WorkerLease, first_in_the_way
from bot.daily.schedules import Schedule
from bot.daily.store import Rekeyed
from bot.platforms import checked_prefix
from bot.quotes.store import QuoteStore
from bot.storage.transaction import write_transaction


def _schedule(row: aiosqlite.Row) -> Schedule:
    return Schedule(
        platform=row["platform"],
        channel=row["channel"],
        local_time=time.fromisoformat(row["local_time"]),
        tz=row["tz"],
        theme=row["theme"],
        enabled=bool(row["enabled"]),
        set_by=row["set_by"],
        set_at=datetime.fromisoformat(row["set_at"]),
        disabled_reason=row["disabled_reason"],
    )


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _record(row: aiosqlite.Row) -> DayRecord:
    return DayRecord(
        platform=row["platform"],
        channel=row["channel"],
        local_date=date.fromisoformat(row["local_date"]),
        status=PostStatus(row["status"]),
        quote_id=row["quote_id"],
        message_id=row["message_id"],
        reason=row["reason"],
        attempts=row["attempts"],
        next_attempt_at=_instant(row["next_attempt_at"]),
        claimed_at=datetime.fromisoformat(row["claimed_at"]),
        worker=row["worker"],
        resend_until=_instant(row["resend_until"]),
    )


# SQLite's clock, in julian days: the one host's, whichever process asks.
_LEASES = sql.lease_sql("julianday('now')", "julianday('now') + ? / 86400.0")
_SHARDS = sql.shard_lease_sql(
    "julianday('now')",
    "julianday('now') + ? / 86400.0",
    "(expires_at - julianday('now')) * 86400.0",
)


class SqliteDailyStore:
    """The daily_schedules, daily_posts and daily_bag tables of one connection (a DailyStore)."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        rng: random.Random | None = None,
        *,
        lease: LeaseTerms | None = None,
    ) -> None:
        self.conn = conn
        self._quotes = QuoteStore(conn)
        self.bag = ShuffleBag(conn, rng)
        self.lease_terms = lease or LeaseTerms()

    def worker_lease(self) -> WorkerLease:
        return WorkerLease(self, self.lease_terms)

    async def hold_lease(self, token: str, holder: str, ttl: timedelta) -> bool:
        seconds = ttl.total_seconds()
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(_LEASES.renew, (seconds, token))
            if cursor.rowcount > 0:
                return True
            await self.conn.execute(_LEASES.take, (token, holder, seconds))
        return False

    async def drop_lease(self, token: str) -> None:
        async with write_transaction(self.conn):
            await self.conn.execute(_LEASES.drop, (token,))

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
        async with write_transaction(self.conn):  # the write lock: check and take as one
            async with self.conn.execute(_SHARDS.others, (application, token)) as cursor:
                rows = await cursor.fetchall()
            if (taken := first_in_the_way(rows, shards, count)) is not None:
                return taken
            await self.conn.executemany(
                _SHARDS.take,
                [(application, s, count, token, holder, ttl.total_seconds()) for s in shards],
            )
        return None

    async def drop_shards(self, token: str) -> None:
        async with write_transaction(self.conn):
            await self.conn.execute(_SHARDS.drop, (token,))

    async def save_schedule(self, schedule: Schedule) -> None:
        """Create or replace the channel's schedule."""
        async with write_transaction(self.conn):
            await self.conn.execute(
                "INSERT INTO daily_schedules (platform, channel, local_time, tz, theme, enabled, "
                "disabled_reason, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, channel) DO UPDATE SET local_time = excluded.local_time, "
                "tz = excluded.tz, theme = excluded.theme, enabled = excluded.enabled, "
                "disabled_reason = excluded.disabled_reason, set_by = excluded.set_by, "
                "set_at = excluded.set_at",
                (
                    schedule.platform,
                    schedule.channel,
                    schedule.time_text,
                    schedule.tz,
                    schedule.theme,
                    int(schedule.enabled),
                    schedule.disabled_reason,
                    schedule.set_by,
                    schedule.set_at.isoformat(),
                ),
            )

    async def turn_off(self, platform: str, channel: str, by: str, at: datetime) -> bool:
        """Stop the channel's daily quote (kept, so `on` again keeps its shuffle bag)."""
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(
                "UPDATE daily_schedules SET enabled = 0, disabled_reason = NULL, set_by = ?, "
                "set_at = ? WHERE platform = ? AND channel = ?",
                (by, at.isoformat(), platform, channel),
            )
        return cursor.rowcount > 0

    async def turn_off_where(self, platform: str, channel_prefix: str, reason: str) -> int:
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(
                sql.DISABLE_WHERE, (reason, platform, len(channel_prefix), channel_prefix)
            )
            return len(list(await cursor.fetchall()))

    async def key_bare_channels(self, platform: str, prefix: str) -> Rekeyed:
        prefix = checked_prefix(prefix)
        async with self.conn.execute(sql.ANY_BARE, (platform,) * 3) as cursor:
            if not (await cursor.fetchone() or (0,))[0]:
                return Rekeyed()  # the usual case: no write transaction
        counts = []
        async with write_transaction(self.conn):
            async with self.conn.execute(sql.BARE_BAGS, (platform,)) as cursor:
                bags = (await cursor.fetchone() or (0,))[0]
            for rename, drop in (sql.KEY_BARE_SCHEDULES, sql.KEY_BARE_DAYS, sql.KEY_BARE_BAG):
                renamed = await self.conn.execute(rename, (prefix, platform, prefix))
                dropped = await self.conn.execute(drop, (platform,))
                counts.append(renamed.rowcount + dropped.rowcount)
        return Rekeyed(counts[0], counts[1], int(bags))

    async def schedule(self, platform: str, channel: str) -> Schedule | None:
        async with self.conn.execute(
            "SELECT * FROM daily_schedules WHERE platform = ? AND channel = ?",
            (platform, channel),
        ) as cursor:
            row = await cursor.fetchone()
        return _schedule(row) if row else None

    async def schedules(self) -> list[Schedule]:
        """Every schedule, enabled or not, by platform and channel."""
        async with self.conn.execute(
            "SELECT * FROM daily_schedules ORDER BY platform, channel"
        ) as cursor:
            return [_schedule(row) for row in await cursor.fetchall()]

    async def records_since(self, day: date) -> dict[DayKey, DayRecord]:
        """Every row from local date `day` on."""
        async with self.conn.execute(
            "SELECT * FROM daily_posts WHERE local_date >= ?", (day.isoformat(),)
        ) as cursor:
            return {r.key: r for r in map(_record, await cursor.fetchall())}

    async def latest(self) -> dict[tuple[str, str], DayRecord]:
        """Each channel's most recent row: the "last outcome" of status and `daily list`."""
        async with self.conn.execute(
            "SELECT p.* FROM daily_posts p JOIN (SELECT platform, channel, "
            "max(local_date) AS local_date FROM daily_posts GROUP BY platform, channel) m "
            "USING (platform, channel, local_date)"
        ) as cursor:
            return {(r.platform, r.channel): r for r in map(_record, await cursor.fetchall())}

    async def claim(
        self,
        platform: str,
        channel: str,
        day: date,
        theme: str | None,
        now: datetime,
        worker: str | None = None,
    ) -> Claim | None:
        """Take the day and draw its quote, or None when a row already holds the day.

        Both happen in one write transaction, so of two processes only one gets the claim.
        `worker` is the claiming scheduler's lease (bot/daily/lease.py).
        """
        token = uuid.uuid4().hex
        async with write_transaction(self.conn):
            if await self._exists((platform, channel, day)):
                return None
            quote_id = await self.bag.draw(platform, channel, theme)
            if quote_id is None:
                return None
            await self.conn.execute(
                "INSERT INTO daily_posts (platform, channel, local_date, status, quote_id, "
                "attempts, claim_token, claimed_at, worker) "
                "VALUES (?, ?, ?, 'claimed', ?, 1, ?, ?, ?)",
                (platform, channel, day.isoformat(), quote_id, token, now.isoformat(), worker),
            )
        return Claim(platform, channel, day, quote_id, token, 1)

    async def reclaim(
        self, record: DayRecord, theme: str | None, now: datetime, worker: str | None = None
    ) -> Claim | None:
        """Take a `retrying` day back for another attempt, or None if another process did."""
        token = uuid.uuid4().hex
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(
                f"UPDATE daily_posts SET status = 'claimed', claim_token = ?, claimed_at = ?, "
                f"worker = ?, attempts = attempts + 1 WHERE {sql.KEY} AND status = 'retrying'",
                (token, now.isoformat(), worker, *self._key(record.key)),
            )
            if cursor.rowcount == 0:
                return None
            quote_id = record.quote_id or ""
            if await self._quotes.quote_by_id(quote_id) is None:
                # The corpus changed since the first attempt and this quote left it.
                quote_id = await self.bag.draw(record.platform, record.channel, theme) or quote_id
                await self.conn.execute(
                    f"UPDATE daily_posts SET quote_id = ? WHERE {sql.KEY}",
                    (quote_id, *self._key(record.key)),
                )
        return Claim(
            record.platform,
            record.channel,
            record.local_date,
            quote_id,
            token,
            record.attempts + 1,
            record.resend_until,
        )

    async def record_missed(self, platform: str, channel: str, day: date, now: datetime) -> bool:
        """Mark the day missed unless a row already holds it; True if this call marked it."""
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(
                "INSERT OR IGNORE INTO daily_posts (platform, channel, local_date, status, "
                "claimed_at, finished_at) VALUES (?, ?, ?, 'missed', ?, ?)",
                (platform, channel, day.isoformat(), now.isoformat(), now.isoformat()),
            )
        return cursor.rowcount > 0

    async def record_posted(self, claim: Claim, message_id: str, now: datetime) -> None:
        # Matched on the token, not the status: if another process's start marked this claim
        # `unknown` meanwhile, the real outcome overwrites that guess.
        async with write_transaction(self.conn):
            await self.conn.execute(
                "UPDATE daily_posts SET status = 'posted', message_id = ?, reason = NULL, "
                "next_attempt_at = NULL, finished_at = ? WHERE claim_token = ?",
                (message_id, now.isoformat(), claim.token),
            )

    async def record_retry(
        self,
        claim: Claim,
        reason: str,
        retry_at: datetime,
        now: datetime,
        *,
        resend_until: datetime | None = None,
    ) -> None:
        # COALESCE keeps the first window: it counts from the first attempt that may have posted.
        async with write_transaction(self.conn):
            await self.conn.execute(
                "UPDATE daily_posts SET status = 'retrying', reason = ?, next_attempt_at = ?, "
                "finished_at = ?, resend_until = COALESCE(resend_until, ?) "
                "WHERE claim_token = ?",
                (
                    reason,
                    retry_at.isoformat(),
                    now.isoformat(),
                    resend_until.isoformat() if resend_until else None,
                    claim.token,
                ),
            )

    async def record_unknown(self, claim: Claim, reason: str, now: datetime) -> None:
        """The post may or may not be on the platform: never sent again, its quote stays drawn."""
        async with write_transaction(self.conn):
            await self.conn.execute(
                "UPDATE daily_posts SET status = 'unknown', reason = ?, next_attempt_at = NULL, "
                "finished_at = ? WHERE claim_token = ?",
                (reason, now.isoformat(), claim.token),
            )

    async def record_failed(
        self, claim: Claim, reason: str, now: datetime, *, disable: bool
    ) -> None:
        """The day failed; its quote goes back in the bag. `disable` also stops the schedule.

        A day that may have posted (`resend_until`) becomes `unknown` instead."""
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(
                f"UPDATE daily_posts SET status = {sql.FAILED_OR_UNKNOWN}, reason = ?, "
                "next_attempt_at = NULL, finished_at = ? WHERE claim_token = ? "
                "RETURNING status",
                (reason, now.isoformat(), claim.token),
            )
            rows = await cursor.fetchall()
            if any(row[0] == "failed" for row in rows):
                await self.bag.put_back(claim.platform, claim.channel, claim.quote_id)
            if disable:
                await self.conn.execute(
                    "UPDATE daily_schedules SET enabled = 0, disabled_reason = ? "
                    "WHERE platform = ? AND channel = ?",
                    (reason, claim.platform, claim.channel),
                )

    async def give_up(self, record: DayRecord, reason: str, now: datetime) -> bool:
        """Turn a `retrying` day into `failed` (its day is over), or `unknown` if it may have
        posted; False if it was not retrying."""
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(
                f"UPDATE daily_posts SET status = {sql.FAILED_OR_UNKNOWN}, reason = ?, "
                f"next_attempt_at = NULL, finished_at = ? WHERE {sql.KEY} AND status = 'retrying' "
                "RETURNING status",
                (reason, now.isoformat(), *self._key(record.key)),
            )
            rows = await cursor.fetchall()
            if any(row[0] == "failed" for row in rows) and record.quote_id:
                await self.bag.put_back(record.platform, record.channel, record.quote_id)
        return bool(rows)

    async def start_sending(self, claim: Claim) -> bool:
        """Mark the claim as being sent, right before asking the platform; False means another
        process's start took the claim back (see recover_claims) and this one must not post."""
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(sql.START_SENDING, (claim.token,))
        return cursor.rowcount > 0

    async def recover_claims(
        self, now: datetime, worker: str | None = None, tracked: Collection[str] = ()
    ) -> tuple[list[DayRecord], list[DayRecord]]:
        """Settle the held days of schedulers that are gone (no live lease, by SQLite's clock),
        and those of `worker` whose claim token is not in `tracked`.

        A `claimed` day never reached the platform: it becomes `retrying`, due at once. A
        `sending` day may have been posted: it becomes `unknown` and is never posted again
        (its quote stays drawn for the same reason). Returns (retried, unknown).
        """
        retried, unknown = [], []
        async with write_transaction(self.conn):
            async with self.conn.execute(_LEASES.held) as cursor:
                rows = await cursor.fetchall()
            for row in rows:
                mine = worker is not None and row["worker"] == worker
                if row["live"] and not (mine and row["claim_token"] not in tracked):
                    continue
                record = _record(row)
                if record.status is PostStatus.CLAIMED:
                    await self.conn.execute(
                        sql.RECOVER_CLAIMED, (now.isoformat(), row["claim_token"])
                    )
                    retried.append(record)
                else:
                    await self.conn.execute(
                        sql.RECOVER_SENDING,
                        (sql.STOPPED_WHILE_POSTING, now.isoformat(), row["claim_token"]),
                    )
                    unknown.append(record)
            await self.conn.execute(_LEASES.purge)
        return retried, unknown

    @staticmethod
    def _key(key: DayKey) -> tuple[str, str, str]:
        return (key[0], key[1], key[2].isoformat())

    async def _exists(self, key: DayKey) -> bool:
        async with self.conn.execute(
            f"SELECT 1 FROM daily_posts WHERE {sql.KEY}", self._key(key)
        ) as cursor:
            return await cursor.fetchone() is not None
