"""What a post's outcome writes to its day: missed, sending, posted, retrying, unknown, failed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.daily.bag import ShuffleBag, on_channel
from bot.daily.days import Claim, DayKey, DayRecord
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

    async def record_missed(self, platform: str, channel: str, day: date, now: datetime) -> bool:
        """Mark the day missed unless it is held; True if this call marked it."""
        missed = {"platform": platform, "channel": channel, "local_date": day}
        missed |= {"status": "missed", "claimed_at": now, "finished_at": now}

        def miss(conn: sa.Connection) -> bool:
            marked = insert(conn, daily_posts).values(missed).on_conflict_do_nothing()
            return conn.execute(marked.returning(_days.status)).first() is not None

        return await run(self.engine, miss, single=True)

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

    async def record_posted(self, claim: Claim, message_id: str, now: datetime) -> None:
        """The platform took the post. Matched on the token, not the status: if another
        process's start marked this claim `unknown` meanwhile, the real outcome overwrites it."""
        await self._finish(claim, status="posted", message_id=message_id, reason=None, at=now)

    async def record_retry(
        self,
        claim: Claim,
        reason: str,
        retry_at: datetime,
        now: datetime,
        *,
        resend_until: datetime | None = None,
        day_ends: datetime | None = None,
    ) -> None:
        """Try again at `retry_at`: nothing reached the platform, or it may have and the
        platform dedupes a resend until `resend_until` (the day keeps the earliest one).
        `day_ends`, when its local day ends: the schedule is due again then at the latest, so
        a pass gives the day up as the day ends (see pull_in)."""
        await self._finish(
            claim,
            then=pull_in(claim.platform, claim.channel, day_ends, now) if day_ends else None,
            status="retrying",
            reason=reason,
            at=now,
            next_attempt_at=retry_at,
            resend_until=sa.func.coalesce(
                _days.resend_until,
                sa.bindparam("first", resend_until, type_=daily_posts.c.resend_until.type),
            ),
        )

    async def record_unknown(self, claim: Claim, reason: str, now: datetime) -> None:
        """The platform may or may not have the post: never sent again (quote stays drawn)."""
        await self._finish(claim, status="unknown", reason=reason, at=now)

    async def _finish(
        self, claim: Claim, *, at: datetime, then: sa.Update | None = None, **values: Any
    ) -> None:
        values.setdefault("next_attempt_at", None)
        ended = daily_posts.update().where(_days.claim_token == claim.token)

        def finish(conn: sa.Connection) -> None:
            conn.execute(ended.values(finished_at=at, **values))
            if then is not None:
                conn.execute(then)

        await run(self.engine, finish, single=then is None)

    async def record_failed(
        self, claim: Claim, reason: str, now: datetime, *, disable: bool
    ) -> None:
        """The day failed; its quote goes back in the bag; `disable` stops the schedule too.
        A day with `resend_until` may have posted: it becomes `unknown` instead, and its
        quote stays drawn."""
        failed = _fail(_days.claim_token == claim.token, reason, now)
        off = (
            daily_schedules.update()
            .where(on_channel(daily_schedules, claim.platform, claim.channel))
            .values(enabled=False, disabled_reason=reason, next_due_at=None)
        )

        def fail(conn: sa.Connection) -> None:
            if "failed" in conn.execute(failed).scalars().all():
                self.bag.put_back(conn, claim.platform, claim.channel, claim.quote_id)
            if disable:
                conn.execute(off)

        await run(self.engine, fail)

    async def give_up(self, record: DayRecord, reason: str, now: datetime) -> bool:
        """Turn a `retrying` day into `failed` (`unknown` if it may have posted, see
        record_failed); False if it was not retrying."""
        given_up = _fail(sa.and_(on_day(record.key), _days.status == "retrying"), reason, now)

        def give(conn: sa.Connection) -> bool:
            statuses = conn.execute(given_up).scalars().all()
            if "failed" in statuses and record.quote_id:
                self.bag.put_back(conn, record.platform, record.channel, record.quote_id)
            return bool(statuses)

        return await run(self.engine, give)


def _fail(which: sa.ColumnElement[bool], reason: str, now: datetime) -> sa.UpdateBase:
    """The day `which` failed (`unknown` if it may have posted); returns its status."""
    return (
        daily_posts.update()
        .where(which)
        .values(status=_FAILED_OR_UNKNOWN, reason=reason, next_attempt_at=None, finished_at=now)
        .returning(_days.status)
    )


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
