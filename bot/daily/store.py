"""The daily feature's state, written once for SQLite and PostgreSQL: schedules, days, bags."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.daily.bag import ShuffleBag, on_channel
from bot.daily.days import Claim, DayKey, DayRecord, Outcome, PostStatus
from bot.daily.due_store import DueIndex, record_of, schedule_of
from bot.daily.plan import day_end, next_due
from bot.daily.schedules import Schedule
from bot.storage.engine import rows, run
from bot.storage.schema import daily_posts, daily_schedules, db_now, insert
from bot.storage.schema import worker_leases as leases

_days, _schedules = daily_posts.c, daily_schedules.c
# Whether the lease of the scheduler holding a day is live, by the database's clock.
_LIVE = (
    sa.select(1)
    .where(leases.c.token == _days.worker, leases.c.expires_at > db_now())
    .exists()
    .label("live")
)
# How recover_claims settles a held day of a scheduler that is gone, by its status.
_SETTLED = {
    PostStatus.CLAIMED: {"status": "retrying", "reason": "the process stopped before posting"},
    PostStatus.SENDING: {
        "status": "unknown",
        "reason": "the process stopped while posting: the message may or may not have gone out",
    },
}
# A day that may have reached the platform (`resend_until` set) is never called failed.
_FAILED_OR_UNKNOWN = sa.case((_days.resend_until.is_(None), "failed"), else_="unknown")


def _on_day(key: DayKey) -> sa.ColumnElement[bool]:
    return sa.and_(on_channel(daily_posts, *key[:2]), _days.local_date == key[2])


def _changed(conn: sa.Connection, statement: sa.Executable) -> bool:
    return bool(conn.execute(statement).rowcount)


class DailyStore(DueIndex):
    """The daily tables on one engine, each write one transaction; a claim is unique per
    (platform, channel, local date) across every process sharing the database. `ids(theme)`:
    the corpus's quote ids held in memory (QuoteService.ids), so a claim never reads the quote
    tables (on PostgreSQL one statement, and nothing in the local SQLite file)."""

    def __init__(
        self,
        engine: AsyncEngine,
        ids: Callable[[str | None], Sequence[str]],
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.bag = ShuffleBag(ids, rng)

    async def save_schedules(self, schedules: Iterable[Schedule]) -> None:
        """Create or replace each channel's schedule, in one transaction, due at its first
        slot from when it was set (none while off)."""
        found = [  # in key order, as DueIndex.advance: one lock order for every writer
            {**asdict(s), "next_due_at": next_due(s, s.set_at, inclusive=True)}
            for s in sorted(schedules, key=lambda s: (s.platform, s.channel))
        ]
        if not found:
            return
        keys = ["platform", "channel"]

        def save(conn: sa.Connection) -> None:
            upsert = insert(conn, daily_schedules)
            replaced = {k: upsert.excluded[k] for k in found[0] if k not in keys}
            conn.execute(upsert.on_conflict_do_update(index_elements=keys, set_=replaced), found)

        await run(self.engine, save)

    async def schedule(self, platform: str, channel: str) -> Schedule | None:
        found = daily_schedules.select().where(on_channel(daily_schedules, platform, channel))
        return next(map(schedule_of, await rows(self.engine, found)), None)

    async def schedules(self) -> list[Schedule]:
        """Every schedule, on or off, by platform and channel."""
        ordered = daily_schedules.select().order_by(_schedules.platform, _schedules.channel)
        return list(map(schedule_of, await rows(self.engine, ordered)))

    async def records_since(
        self, day: date, keys: Collection[tuple[str, str]] | None = None
    ) -> dict[DayKey, DayRecord]:
        """Every day's record from local date `day` on (only the channels `keys`, if given)."""
        since = daily_posts.select().where(_days.local_date >= day)
        if keys is not None:
            if not keys:
                return {}
            since = since.where(sa.tuple_(_days.platform, _days.channel).in_(sorted(keys)))
        return {r.key: r for r in map(record_of, await rows(self.engine, since))}

    async def latest(
        self, keys: Collection[tuple[str, str]] | None = None
    ) -> dict[tuple[str, str], DayRecord]:
        """Each channel's most recent record, its "last outcome" (only the channels `keys`)."""
        channel = (_days.platform, _days.channel)
        last = sa.select(*channel, sa.func.max(_days.local_date)).group_by(*channel)
        if keys is not None:
            last = last.where(sa.tuple_(*channel).in_(sorted(keys)))
        latest = daily_posts.select().where(sa.tuple_(*channel, _days.local_date).in_(last))
        return {(r.platform, r.channel): r for r in map(record_of, await rows(self.engine, latest))}

    async def claim(
        self,
        platform: str,
        channel: str,
        day: date,
        theme: str | None,
        now: datetime,
        worker: str | None = None,
    ) -> Claim | None:
        """Take the day and draw its quote from the channel's bag, in one transaction; None
        when the day is held already (or the corpus is empty). `worker`: the claimer's lease."""
        if not (ids := self.bag.drawable(theme)):
            return None
        token = uuid.uuid4().hex
        row = dict(platform=platform, channel=channel, day=day, now=now, token=token, worker=worker)
        # On PostgreSQL one statement, with no transaction around it; the rare day claimed
        # without a quote (every guess drawn) gets one in a second transaction.
        got = await run(self.engine, lambda conn: self.bag.claim(conn, row, ids), single=True)
        if got is None:
            return None
        quote_id = got.quote_id or await run(self.engine, lambda c: self.bag.fill(c, row, ids))
        return Claim(platform, channel, day, quote_id, token, 1)

    async def reclaim(
        self, record: DayRecord, theme: str | None, now: datetime, worker: str | None = None
    ) -> Claim | None:
        """Take a `retrying` day back for another attempt; None if another process did."""
        token = uuid.uuid4().hex
        taken = (
            daily_posts.update()
            .where(_on_day(record.key), _days.status == "retrying")
            .values(status="claimed", claim_token=token, claimed_at=now, worker=worker)
            .values(attempts=_days.attempts + 1)
            .returning(_days.quote_id, _days.attempts, _days.resend_until)
        )

        def take(conn: sa.Connection) -> Claim | None:
            if (row := conn.execute(taken).first()) is None:
                return None
            quote_id = row.quote_id or ""
            # The corpus changed since the first attempt and this quote left it.
            if not self.bag.knows(quote_id):
                if ids := self.bag.drawable(theme):
                    quote_id = self.bag.draw_in_full(conn, record.platform, record.channel, ids)
                conn.execute(
                    daily_posts.update().where(_on_day(record.key)), {"quote_id": quote_id}
                )
            return Claim(*record.key, quote_id, token, row.attempts, row.resend_until)

        return await run(self.engine, take)

    async def recover_claims(
        self, now: datetime, worker: str | None = None, tracked: Collection[str] = ()
    ) -> tuple[list[DayRecord], list[DayRecord]]:
        """Settle the held days of schedulers that are gone (no live lease, by the database's
        clock), and those of `worker` (the caller's) whose claim token is not in `tracked` (a
        write whose answer never came); (retried, unknown). A `claimed` day never reached the
        platform: `retrying`, due at once. A `sending` day may have posted: `unknown`, never
        posted again. Each write is guarded by the claim and status found, so of processes
        recovering at once one settles it, and a claim made since is left alone."""
        held = sa.select(daily_posts, _LIVE).where(_days.status.in_(("claimed", "sending")))
        # Most passes find nothing held and no lease expired: a read says so, with no write
        # transaction (a pass with nothing due costs two indexed reads).
        anything = sa.select(
            sa.exists(held.with_only_columns(sa.literal(1))),
            sa.exists(sa.select(1).where(leases.c.expires_at <= db_now())),
        )
        if not any((await rows(self.engine, anything))[0]):
            return [], []

        def recover(conn: sa.Connection) -> tuple[list[DayRecord], list[DayRecord]]:
            settled: dict[PostStatus, list[DayRecord]] = {s: [] for s in _SETTLED}
            for row in conn.execute(held).all():
                mine = worker is not None and row.worker == worker
                if row.live and not (mine and row.claim_token not in tracked):
                    continue
                record = record_of(row)
                at = "next_attempt_at" if record.status is PostStatus.CLAIMED else "finished_at"
                settle = daily_posts.update().where(
                    _days.claim_token == row.claim_token, _days.status == record.status
                )
                if _changed(conn, settle.values(**_SETTLED[record.status], **{at: now})):
                    settled[record.status].append(record)
            # Expired leases go (a missing one counts as expired: dropping them is safe).
            conn.execute(leases.delete().where(leases.c.expires_at <= db_now()))
            return settled[PostStatus.CLAIMED], settled[PostStatus.SENDING]

        return await run(self.engine, recover)

    async def start_sending(self, claim: Claim) -> bool:
        """Mark the claim as being sent, right before asking the platform (idempotent); False:
        another process took the claim back (recover_claims), and this one must not post."""
        sending = (
            daily_posts.update()
            .where(_days.claim_token == claim.token, _days.status.in_(("claimed", "sending")))
            .values(status="sending")
        )
        return await run(self.engine, lambda conn: _changed(conn, sending), single=True)

    async def record(self, o: Outcome) -> bool:
        """Write the outcome to its day (see Outcome) in one transaction; False when it found
        nothing to write: a missed day held already, a day given up no longer `retrying`, a
        claim's day gone. A write about a claim is matched on its token, not its status (the
        real outcome overwrites an `unknown` another's recovery wrote), and idempotent. A
        failed day's quote goes back in the bag, unless the day may have posted (it then ends
        `unknown`). A retrying day pulls its schedule in to its local day's end (_pull_in), so
        a pass gives it up then."""
        if o.status is PostStatus.MISSED:
            missed = dict(zip(("platform", "channel", "local_date"), o.day, strict=True))
            missed |= {"status": "missed", "claimed_at": o.at, "finished_at": o.at}

            def miss(conn: sa.Connection) -> bool:  # unless the day is held
                marked = insert(conn, daily_posts).values(missed).on_conflict_do_nothing()
                return conn.execute(marked.returning(_days.status)).first() is not None

            return await run(self.engine, miss, single=True)
        if o.status is PostStatus.FAILED:
            return await run(self.engine, lambda conn: self._fail(conn, o))
        assert o.claim is not None
        values = {"status": o.status.value, "reason": o.reason or None, "finished_at": o.at}
        values["next_attempt_at"] = o.retry_at
        if o.status is PostStatus.POSTED:
            values["message_id"] = o.message_id
        ended = daily_posts.update().where(_days.claim_token == o.claim.token).values(values)
        if o.status is not PostStatus.RETRYING:
            return await run(self.engine, lambda conn: _changed(conn, ended), single=True)
        # The platform dedupes a resend until the first such instant: the day keeps it.
        first = sa.bindparam("first", o.resend_until, type_=_days.resend_until.type)
        ended = ended.values(resend_until=sa.func.coalesce(_days.resend_until, first))
        platform, channel, day = o.day
        zone = sa.select(_schedules.tz).where(on_channel(daily_schedules, platform, channel))

        def retry(conn: sa.Connection) -> bool:
            wrote = _changed(conn, ended)
            if (tz := conn.execute(zone).scalar()) is not None:
                conn.execute(_pull_in(platform, channel, day_end(day, ZoneInfo(tz)), o.at))
            return wrote

        return await run(self.engine, retry)

    def _fail(self, conn: sa.Connection, o: Outcome) -> bool:
        # A claim's day, or a `retrying` day given up (False if it no longer was).
        which = (
            _days.claim_token == o.claim.token
            if o.claim is not None
            else sa.and_(_on_day(o.day), _days.status == "retrying")
        )
        ended = {"reason": o.reason, "next_attempt_at": None, "finished_at": o.at}
        failed = daily_posts.update().where(which).values(status=_FAILED_OR_UNKNOWN, **ended)
        statuses = conn.execute(failed.returning(_days.status)).scalars().all()
        if "failed" in statuses and o.quote_id:
            self.bag.put_back(conn, *o.day[:2], o.quote_id)
        if o.disable:  # failed for good: the schedule goes off too
            off = {"enabled": False, "disabled_reason": o.reason, "next_due_at": None}
            mine = on_channel(daily_schedules, *o.day[:2])
            conn.execute(daily_schedules.update().where(mine).values(off))
        return bool(statuses)


def _pull_in(platform: str, channel: str, at: datetime, now: datetime) -> sa.Update:
    """The schedule's next_due_at brought in to `at`, if later, or if a pass at `now` has not
    moved it on yet (a pass only moves on a value it read: it then leaves this one)."""
    due = _schedules.next_due_at
    instant = sa.bindparam("pulled", at.astimezone(UTC), type_=due.type)
    return (
        daily_schedules.update()
        .where(
            on_channel(daily_schedules, platform, channel),
            _schedules.enabled == sa.true(),
            sa.or_(due.is_(None), due > instant, due <= now.astimezone(UTC)),
        )
        .values(next_due_at=instant)
    )
