"""What a post's outcome writes to its day: missed, sending, posted, retrying, unknown, failed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.daily.bag import ShuffleBag, on_channel
from bot.daily.days import Claim, DayKey, Outcome, PostStatus
from bot.daily.plan import day_end
from bot.storage.engine import run
from bot.storage.schema import daily_posts, daily_schedules, insert

_days, _schedules = daily_posts.c, daily_schedules.c
# A day that may have reached the platform (`resend_until` set) is never called failed.
_FAILED_OR_UNKNOWN = sa.case((_days.resend_until.is_(None), "failed"), else_="unknown")


def on_day(key: DayKey) -> sa.ColumnElement[bool]:
    return sa.and_(_days.platform == key[0], _days.channel == key[1], _days.local_date == key[2])


class Outcomes:
    """The outcome writes, part of DailyStore (so they are forwarded and timed as its other
    calls are), on its engine and bag."""

    engine: AsyncEngine
    bag: ShuffleBag

    async def start_sending(self, claim: Claim) -> bool:
        """Mark the claim as being sent, right before asking the platform; False means another
        process's start took the claim back (see recover_claims) and this one must not post.
        Idempotent, so a call whose answer was lost can be made again."""
        sending = (
            daily_posts.update()
            .where(_days.claim_token == claim.token, _days.status.in_(("claimed", "sending")))
            .values(status="sending")
        )
        sent = await run(self.engine, lambda conn: conn.execute(sending).rowcount, single=True)
        return sent > 0

    async def record(self, o: Outcome) -> bool:
        """Write the outcome to its day, the write its status names (see Outcome), in one
        transaction; False when it found nothing to write: a missed day held already, a day
        given up no longer `retrying`, a claim's day gone.

        A write about a claim is matched on its token, not its status (if another process's
        start marked the claim `unknown` meanwhile, the real outcome overwrites it), and is
        idempotent, so one whose answer was lost can be made again. A failed day's quote goes
        back in the bag, unless the day may have posted (`resend_until`): it then ends
        `unknown` and its quote stays drawn. A retrying day pulls its schedule in to the end
        of its local day (see pull_in), so a pass gives it up then."""
        if o.status is PostStatus.MISSED:
            return await run(self.engine, lambda conn: _miss(conn, o), single=True)
        if o.status is PostStatus.FAILED:
            return await run(self.engine, lambda conn: self._fail(conn, o))
        assert o.claim is not None
        values = {"status": o.status.value, "reason": o.reason or None, "finished_at": o.at}
        values["next_attempt_at"] = o.retry_at
        if o.status is PostStatus.POSTED:
            values["message_id"] = o.message_id
        ended = daily_posts.update().where(_days.claim_token == o.claim.token).values(values)
        if o.status is not PostStatus.RETRYING:
            return await run(self.engine, lambda conn: _wrote(conn, ended), single=True)
        # The platform dedupes a resend until the first such instant: the day keeps it.
        first = sa.bindparam("first", o.resend_until, type_=_days.resend_until.type)
        ended = ended.values(resend_until=sa.func.coalesce(_days.resend_until, first))
        platform, channel, day = o.claim.key
        zone = sa.select(_schedules.tz).where(on_channel(daily_schedules, platform, channel))

        def retry(conn: sa.Connection) -> bool:
            wrote = _wrote(conn, ended)
            if (tz := conn.execute(zone).scalar()) is not None:
                conn.execute(pull_in(platform, channel, day_end(day, ZoneInfo(tz)), o.at))
            return wrote

        return await run(self.engine, retry)

    def _fail(self, conn: sa.Connection, o: Outcome) -> bool:
        # A claim's day, or a `retrying` day given up (False if it no longer was).
        held = o.claim or o.record
        assert held is not None
        which = (
            _days.claim_token == o.claim.token
            if o.claim is not None
            else sa.and_(on_day(held.key), _days.status == "retrying")
        )
        ended = {"reason": o.reason, "next_attempt_at": None, "finished_at": o.at}
        failed = daily_posts.update().where(which).values(status=_FAILED_OR_UNKNOWN, **ended)
        statuses = conn.execute(failed.returning(_days.status)).scalars().all()
        if "failed" in statuses and held.quote_id:
            self.bag.put_back(conn, held.platform, held.channel, held.quote_id)
        if o.disable:  # failed for good: the schedule goes off too
            off = {"enabled": False, "disabled_reason": o.reason, "next_due_at": None}
            mine = on_channel(daily_schedules, held.platform, held.channel)
            conn.execute(daily_schedules.update().where(mine).values(off))
        return bool(statuses)


def _miss(conn: sa.Connection, o: Outcome) -> bool:
    """Mark the day missed unless it is held."""
    missed = dict(zip(("platform", "channel", "local_date"), o.day, strict=True))
    missed |= {"status": "missed", "claimed_at": o.at, "finished_at": o.at}
    marked = insert(conn, daily_posts).values(missed).on_conflict_do_nothing()
    return conn.execute(marked.returning(_days.status)).first() is not None


def _wrote(conn: sa.Connection, statement: sa.Update) -> bool:
    return bool(conn.execute(statement).rowcount)


def pull_in(platform: str, channel: str, at: datetime, now: datetime) -> sa.Update:
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
