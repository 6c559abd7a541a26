"""The due index: the schedules and retrying days a scheduler pass must read, and when next."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.daily.days import DayRecord, PostStatus
from bot.daily.schedules import Schedule
from bot.storage.engine import rows, run
from bot.storage.schema import Instant, daily_meta, daily_posts, daily_schedules, insert

Key = tuple[str, str]
# A schedule as a pass read it, with the next_due_at it had then (None: not computed yet).
Read = tuple[Schedule, datetime | None]
ZONES = "tzdata"  # daily_meta's row naming the zone database the instants were computed with

_days, _schedules = daily_posts.c, daily_schedules.c
# A row is its dataclass field by field (same names): a new column needs nothing here.
_SCHEDULE = tuple(f.name for f in fields(Schedule))
_RECORD = tuple(f.name for f in fields(DayRecord))


def utc(instant: datetime) -> datetime:  # as the index compares it (SQLite: ISO text in UTC)
    return instant.astimezone(UTC)


def schedule_of(row: sa.Row[Any]) -> Schedule:
    return Schedule(**{name: row._mapping[name] for name in _SCHEDULE})


def record_of(row: sa.Row[Any]) -> DayRecord:
    values = {name: row._mapping[name] for name in _RECORD}
    return DayRecord(**{**values, "status": PostStatus(values["status"])})


def _read(found: Iterable[sa.Row[Any]]) -> list[Read]:
    return [(schedule_of(row), row.next_due_at) for row in found]


def _on(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return daily_schedules.select().where(_schedules.enabled == sa.true(), *where)


def _due(now: datetime, platform: str, after: tuple[datetime, str] | None, limit: int) -> Any:
    query = _on(_schedules.platform == platform, _schedules.next_due_at <= utc(now))
    if after is not None:
        last = sa.tuple_(sa.literal(utc(after[0]), Instant), sa.literal(after[1]))
        query = query.where(sa.tuple_(_schedules.next_due_at, _schedules.channel) > last)
    return query.order_by(_schedules.next_due_at, _schedules.channel).limit(limit)


def _unplanned(platform: str, after: str | None, limit: int) -> Any:
    query = _on(_schedules.platform == platform, _schedules.next_due_at.is_(None))
    if after is not None:
        query = query.where(_schedules.channel > after)
    return query.order_by(_schedules.channel).limit(limit)


# The schedules with a retrying day to act on (its next attempt due, or its schedule off),
# through the retrying days' index alone: the caller checks the platform.
_RETRYING = sa.and_(
    _days.status == "retrying",
    sa.or_(
        _days.next_attempt_at.is_(None),
        _days.next_attempt_at <= sa.bindparam("now", type_=Instant),
        _schedules.enabled == sa.false(),
    ),
)
_ON_SCHEDULE = sa.and_(_schedules.platform == _days.platform, _schedules.channel == _days.channel)


class DueIndex:
    """The due index's queries, part of DailyStore: each schedule keeps `next_due_at`
    (plan.next_due), so a pass reads the rows due by now through an index, not every
    schedule; a retrying day is due at its own `next_attempt_at`."""

    engine: AsyncEngine

    async def due(
        self, now: datetime, platform: str, after: tuple[datetime | None, str], limit: int
    ) -> list[Read]:
        """The page after `after`, the last (next_due_at, channel) of the page before: up to
        `limit` enabled schedules of `platform` due by `now`, in due order (the index
        `daily_schedules_due`); after a None, those whose next_due_at is not computed
        (written before revision 0006, or the zone database changed), by channel."""
        at, channel = after
        due = (
            _due(now, platform, (at, channel), limit)
            if at
            else _unplanned(platform, channel, limit)
        )
        return _read(await rows(self.engine, due))

    async def first_pages(
        self, now: datetime, platforms: Collection[str], limit: int
    ) -> dict[str, list[Read]]:
        """What a pass at `now` reads first, on one connection: "retrying", the schedules with
        a retrying day to act on; "replayed", those set after `now` (`daily tick --at`
        replaying an earlier day counts them from that day: plan.counts_from; none on the
        real clock); and each platform's first page of "unplanned:P" and "due:P" (`due`)."""
        retrying = sa.select(_days.platform, _days.channel).join(daily_schedules, _ON_SCHEDULE)
        retrying = retrying.where(_RETRYING).distinct()

        def read(conn: sa.Connection) -> dict[str, list[Read]]:
            keys = [k for k in conn.execute(retrying, {"now": utc(now)}) if k[0] in platforms]
            again = daily_schedules.select().where(
                sa.tuple_(_schedules.platform, _schedules.channel).in_(keys)
            )
            found = {"retrying": _read(conn.execute(again)) if keys else []}
            replayed = _read(conn.execute(_on(_schedules.set_at > utc(now))))  # by set_at's index
            found["replayed"] = [(s, at) for s, at in replayed if s.platform in platforms]
            for platform in sorted(platforms):
                unplanned = _unplanned(platform, None, limit)
                found[f"unplanned:{platform}"] = _read(conn.execute(unplanned))
                found[f"due:{platform}"] = _read(conn.execute(_due(now, platform, None, limit)))
            return found

        return await run(self.engine, read, write=False)

    async def advance(self, moves: Iterable[tuple[Key, datetime | None, datetime | None]]) -> None:
        """Set each (key, as read, next) schedule's next_due_at to `next`, unless it changed
        since the pass read it (set again, turned off, or a retry pulled it in)."""
        # In key order: replicas moving overlapping pages on then lock the rows in one order,
        # and never deadlock (PostgreSQL did, 1 run in ~10 of three ticks over 500 channels).
        params = [
            {"p": p, "c": c, "read": r and utc(r), "next": n and utc(n)}
            for (p, c), r, n in sorted(moves, key=lambda move: move[0])
        ]
        if not params:
            return
        moved = (
            daily_schedules.update()
            .where(
                _schedules.platform == sa.bindparam("p"),
                _schedules.channel == sa.bindparam("c"),
                _schedules.enabled == sa.true(),
                _schedules.next_due_at.is_not_distinct_from(sa.bindparam("read", type_=Instant)),
            )
            .values(next_due_at=sa.bindparam("next", type_=Instant))
        )
        # One statement, run for each row: on PostgreSQL no BEGIN or COMMIT round trip.
        await run(self.engine, lambda conn: conn.execute(moved, params), single=True)

    async def next_due(self, now: datetime, platforms: Collection[str]) -> datetime | None:
        """The earliest instant after `now` a schedule of `platforms` or a retrying day is due
        (the first entry past `now` of each platform's due index and of the retrying days')."""
        after = utc(now)
        firsts = [
            sa.select(_schedules.next_due_at.label("at"))
            .where(
                _schedules.platform == platform,
                _schedules.next_due_at > after,
                _schedules.enabled == sa.true(),
            )
            .order_by(_schedules.next_due_at)
            .limit(1)
            .subquery()
            for platform in sorted(platforms)
        ]
        firsts.append(
            sa.select(_days.next_attempt_at.label("at"))
            .where(_days.status == "retrying", _days.next_attempt_at > after)
            .order_by(_days.next_attempt_at)
            .limit(1)
            .subquery()
        )
        both = sa.union_all(*(sa.select(first.c.at) for first in firsts)).subquery()
        found = await rows(self.engine, sa.select(sa.func.min(both.c.at, type_=Instant)))
        return cast("datetime | None", found[0][0])

    async def zone_version(self, running: str | None = None) -> tuple[str | None, int]:
        """The zone database version the next due instants were computed with (None: none
        recorded), and how many were forgotten: given `running` (a scheduler's start), another
        version recorded forgets them all (the next pass plans each schedule in full), and
        `running` is recorded (none recorded: revision 0006 used the running one)."""
        recorded = sa.select(daily_meta.c.value).where(daily_meta.c.name == ZONES)
        planned = _schedules.next_due_at.is_not(None)

        def check(conn: sa.Connection) -> tuple[str | None, int]:
            found: str | None = conn.execute(recorded).scalar()
            if running is None or found == running:
                return found, 0
            forgotten = 0
            if found is not None:
                gone = conn.execute(daily_schedules.update().where(planned), {"next_due_at": None})
                forgotten = int(gone.rowcount)
            seen = insert(conn, daily_meta).values(name=ZONES, value=running)
            kept = {"value": running}
            conn.execute(seen.on_conflict_do_update(index_elements=["name"], set_=kept))
            return found, forgotten

        return await run(self.engine, check, write=running is not None)
