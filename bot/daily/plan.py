"""Pure daily-post planning: local times across DST, and what is due at an instant."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.daily.days import DayKey, DayRecord, PostStatus
from bot.daily.schedules import Schedule

# A post this close to its instant is on time whatever the catch-up window (even 0 hours):
# a loop that wakes a few milliseconds late is not "late".
ON_TIME = timedelta(minutes=2)
ONE_DAY = timedelta(days=1)
# After an outage, each of up to this many past days is recorded as missed, so status and
# `daily list` account for every day; a longer outage's older days are not listed one by one.
LOOKBACK_DAYS = 7


class Action(StrEnum):
    POST = "post"  # claim the day and post
    RETRY = "retry"  # another attempt after a transient failure
    MISS = "miss"  # too late: record the day as missed
    GIVE_UP = "give_up"  # a retrying day that is over (or whose schedule was turned off)


@dataclass(frozen=True, slots=True)
class Due:
    action: Action
    schedule: Schedule
    local_date: date
    scheduled_at: datetime
    record: DayRecord | None = None


def scheduled_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`: of a wall time that happens
    twice (clocks going back), the first; of one that does not exist (clocks going forward),
    the first valid instant after it, the moment the clocks jump."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap, fold=0 reads the wall time with the offset from before the jump and fold=1
    # with the one after; the jump lies between the two readings.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _offset_change(min(first, other), max(first, other), zone)


def _offset_change(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first second in (before, after] whose UTC offset is the one `after` has."""
    target = after.astimezone(zone).utcoffset()
    low, high = before, after
    while high - low > timedelta(seconds=1):
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high


def due_posts(
    now: datetime,
    schedules: Iterable[Schedule],
    records: Mapping[DayKey, DayRecord],
    catchup: timedelta,
) -> list[Due]:
    """What the scheduler must do at `now`, given the schedules and their recent records: a
    channel's day is due once its instant has passed, if not before the schedule was set, and
    no record holds it: posted on the same local day within `catchup` of it, else (back to
    LOOKBACK_DAYS days) missed. A transient failure is retried until the local day ends."""
    found: list[Due] = []
    for schedule in schedules:
        zone = schedule.zone
        today = now.astimezone(zone).date()
        for day in (today - back * ONE_DAY for back in range(LOOKBACK_DAYS, -1, -1)):
            at = scheduled_instant(day, schedule.local_time, zone)
            record = records.get((schedule.platform, schedule.channel, day))
            if record is not None:
                if record.status is PostStatus.RETRYING:
                    if day != today or not schedule.enabled:
                        found.append(Due(Action.GIVE_UP, schedule, day, at, record))
                    elif record.next_attempt_at is None or record.next_attempt_at <= now:
                        found.append(Due(Action.RETRY, schedule, day, at, record))
                continue
            # A slot from before the schedule was set is never due, nor missed: not when the
            # clock reads earlier either (the console's `:time` moved back, `tick --at`).
            before = at < schedule.set_at
            if not schedule.enabled or before or at > now or not schedule.posts_on(day):
                continue
            late = now - at
            on_time = day == today and late <= max(catchup, ON_TIME)
            found.append(Due(Action.POST if on_time else Action.MISS, schedule, day, at))
    return found


def day_end(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant local `day` ends in `zone`: its next midnight (or, where that midnight
    does not exist, the moment the clocks jump past it)."""
    return scheduled_instant(day + ONE_DAY, time(0), zone)


def next_due(
    schedule: Schedule,
    after: datetime,
    *,
    inclusive: bool = False,
    taken: Collection[DayKey] = (),
) -> datetime | None:
    """The first slot after `after` (or at it, `inclusive`), not before the schedule was set,
    on a day it posts not in `taken`; None when it is off. Kept as its `next_due_at`, so a pass
    reads it only then: `next_due(s, s.set_at, inclusive=True)` when set, `next_due(s, now)`
    once a pass planned it at `now` (every slot up to `now` then has its record or is past the
    look-back). Status skips the days recorded (`taken`: a tick run ahead with --at --force)."""
    if not schedule.enabled or not schedule.weekdays:
        return None
    zone, key = schedule.zone, (schedule.platform, schedule.channel)
    # A mask with any day finds a slot within a week past the days taken.
    start = max(after, schedule.set_at).astimezone(zone).date() - ONE_DAY
    for day in (start + offset * ONE_DAY for offset in range(len(taken) + 10)):
        if not schedule.posts_on(day) or (*key, day) in taken:
            continue
        at = scheduled_instant(day, schedule.local_time, zone)
        if (at > after or (inclusive and at == after)) and at >= schedule.set_at:
            return at
    return None
