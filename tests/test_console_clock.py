"""The console's clock: `:time` text to an instant, and a clock whose waits wake when it moves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.console.clock import ConsoleClock, parse_instant
from bot.daily.schedules import ScheduleError
from tests.fakes.daily import FakeClock

START = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run the tasks just started, never the real clock."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the waiter never got there")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "text", "instant"),
    [
        (START, "08:59", "2025-03-30T08:59Z"),
        (START, "9am utc", "2025-03-30T09:00Z"),
        (START, "9:30 pm", "2025-03-30T21:30Z"),
        (START, "21h", "2025-03-30T21:00Z"),
        # Berlin moves to summer time that night: 08:59 CEST, and 02:30 does not exist.
        (START, "08:59 Europe/Berlin", "2025-03-30T06:59Z"),
        (START, "02:30 Europe/Berlin", "2025-03-30T01:00Z"),
        # Today is the zone's date: in Tokyo it is already the 11th.
        ("2025-03-10T23:30Z", "08:00 Asia/Tokyo", "2025-03-10T23:00Z"),
        # Earlier than now is allowed: the clock goes back.
        ("2025-03-10T23:30Z", "00:05", "2025-03-10T00:05Z"),
        (START, "2025-03-10T08:59Z", "2025-03-10T08:59Z"),
        (START, "2025-03-10T08:59+01:00", "2025-03-10T07:59Z"),
        (START, "2025-03-10 08:59", "2025-03-10T08:59Z"),
        (START, "2025-03-10T08:59 America/New_York", "2025-03-10T12:59Z"),
    ],
)
def test_time_text_means_an_instant(now: datetime | str, text: str, instant: str) -> None:
    at = utc(now) if isinstance(now, str) else now
    reading = parse_instant(text, at)
    assert reading is not None and reading[0] == utc(instant)


@pytest.mark.parametrize("text", ["now", "NOW", "real", "reset"])
def test_now_means_the_real_clock(text: str) -> None:
    assert parse_instant(text, START) is None


@pytest.mark.parametrize(
    "text", ["", "soon", "25:00", "9 Mars/Olympus", "2025-02-30T09:00Z", "1 2 3", "-1"]
)
def test_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_instant(text, START)


def test_the_clock_runs_on_from_where_it_was_moved() -> None:
    real = FakeClock(START)
    clock = ConsoleClock(real)
    assert clock.now() == START
    clock.move_to(START + timedelta(days=3))
    real.advance_to(START + timedelta(minutes=5))
    assert clock.now() == START + timedelta(days=3, minutes=5)
    clock.reset()
    assert clock.now() == real.now()


async def test_a_wait_ends_when_the_real_clock_gets_there() -> None:
    real = FakeClock(START)
    clock = ConsoleClock(real)
    clock.move_to(START + timedelta(hours=8))
    wait = asyncio.create_task(clock.wait_until(START + timedelta(hours=9)))
    await until(lambda: real.next_wake is not None)
    assert real.next_wake == START + timedelta(hours=1)  # the offset taken off
    real.advance_to(START + timedelta(hours=1))
    await asyncio.wait_for(wait, 5)


@pytest.mark.parametrize("hours", [2, -2])
async def test_a_wait_ends_at_once_when_the_clock_moves_either_way(hours: int) -> None:
    real = FakeClock(START)
    clock = ConsoleClock(real)
    wait = asyncio.create_task(clock.wait_until(START + timedelta(hours=1)))
    await until(lambda: real.next_wake is not None)
    assert not wait.done()
    clock.move_to(START + timedelta(hours=hours))
    await asyncio.wait_for(wait, 5)  # the waiter plans again at the new time
    assert real.next_wake is None  # and its real wait was cancelled


async def test_asleep_is_done_at_the_first_wait_while_ready() -> None:
    clock = ConsoleClock(FakeClock(START))
    ready = False
    asleep = clock.asleep(lambda: ready)
    await clock.wait_until(START)  # not ready yet: still pending
    assert not asleep.done()
    ready = True
    await clock.wait_until(START - timedelta(seconds=1))
    assert asleep.done()
