"""The console's clock: the real one moved by `:time`, so a user can watch a daily post happen."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.daily.clock import YEARS, Clock, SystemClock
from bot.daily.plan import scheduled_instant
from bot.daily.schedules import ScheduleError, parse_local_time, parse_zone

TIME_USAGE = (
    ":time 08:59 Europe/Berlin (today there; the zone defaults to UTC), "
    ":time 2025-03-10T08:59Z (a date and time, ISO), :time now (the real time again)"
)


class ConsoleClock:
    """The real clock plus an offset that `move_to` sets. `wait_until` also returns when the
    clock moves: the scheduler then plans again at the new time, whichever way it moved."""

    def __init__(self, real: Clock | None = None) -> None:
        self.real = real or SystemClock()
        self.offset = timedelta(0)
        self._moved = asyncio.Event()
        self._sleep_watchers: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self.real.now() + self.offset

    def move_to(self, instant: datetime) -> None:
        """Read `instant` now and run on from there; wakes every `wait_until`."""
        self.offset = instant - self.real.now()
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    def reset(self) -> None:
        self.move_to(self.real.now())

    async def wait_until(self, instant: datetime) -> None:
        moved = self._moved
        for ready, future in self._sleep_watchers:
            if not future.done() and ready():
                future.set_result(None)
        self._sleep_watchers = [(r, f) for r, f in self._sleep_watchers if not f.done()]
        if self.now() >= instant:
            return
        waits = [
            asyncio.ensure_future(self.real.wait_until(instant - self.offset)),
            asyncio.ensure_future(moved.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    def asleep(self, ready: Callable[[], bool]) -> asyncio.Future[None]:
        """Done the next time a waiter goes to sleep on this clock while `ready()` holds, checked
        at that moment: the console learns the scheduler finished its pass at the moved time."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleep_watchers.append((ready, future))
        return future


def parse_instant(text: str, now: datetime) -> tuple[datetime, str] | None:
    """The instant `:time TEXT` means and how a local time a DST change skips or repeats was
    read; None for `now`; ScheduleError if none. A time of day is on `now`'s date in the zone
    (the clock can go back), read as the scheduler reads it."""
    words = text.split()
    if len(words) > 1 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", words[0]):
        words[:2] = [f"{words[0]}T{words[1]}"]  # "2025-03-10 08:59" is one instant
    if len(words) > 1 and words[1].casefold().replace(".", "") in ("am", "pm"):
        words[:2] = [" ".join(words[:2])]  # "9:30 pm" is one time
    if len(words) == 1 and words[0].casefold() in ("now", "real", "reset"):
        return None
    if not 1 <= len(words) <= 2:
        raise ScheduleError(f"Use {TIME_USAGE}.")
    zone = ZoneInfo(parse_zone(words[1])) if len(words) == 2 else ZoneInfo("UTC")
    try:
        if "-" in words[0][1:]:
            wall = datetime.fromisoformat(words[0])
        else:
            wall = datetime.combine(now.astimezone(zone).date(), parse_local_time(words[0]))
    except ValueError:
        raise ScheduleError(
            f"{words[0][:40]!r} is not an ISO date and time: use e.g. 2025-03-10T08:59Z."
        ) from None
    try:
        if wall.tzinfo is not None:  # an offset given: no local reading to explain
            instant: datetime | None = wall.astimezone(UTC)
        else:
            instant = scheduled_instant(wall.date(), wall.time(), zone)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        instant = None
    if instant is None or instant.year not in YEARS:
        # The scheduler computes days around the clock's time: out of these years it would stop.
        raise ScheduleError(
            f"{text[:40]!r} is out of range: the scheduler holds instants from {YEARS[0]} to "
            f"{YEARS[-1]}; use e.g. :time 2025-03-10T08:59Z."
        )
    return instant, "" if wall.tzinfo else _how_read(wall, zone, instant)


def _how_read(wall: datetime, zone: ZoneInfo, instant: datetime) -> str:
    """A line when `wall` does not exist in `zone` (clocks go forward) or exists twice."""
    first, second = (wall.replace(tzinfo=zone, fold=f) for f in (0, 1))
    day = f"{wall.day} {wall:%B %Y}"
    local = instant.astimezone(zone)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return (
            f"{wall:%H:%M} does not exist on {day} in {zone.key} (the clocks go forward); "
            f"read as {local:%H:%M}, when they do, as a daily quote set for {wall:%H:%M} posts."
        )
    if first.utcoffset() != second.utcoffset():
        return (
            f"{wall:%H:%M} happens twice on {day} in {zone.key} (the clocks go back); read as "
            f"the first, {local:%H:%M %Z} ({instant:%H:%M} UTC)."
        )
    return ""
