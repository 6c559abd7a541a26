"""Fakes for the daily scheduler: a clock that moves only when told, and a recording poster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.daily.scheduler import Scheduler
from bot.quotes.models import Quote

POLL = 0.001  # aiosqlite works in a thread: conditions are polled with tiny real yields
PATIENCE = 5.0  # seconds before a condition that never comes fails the test


class FakeClock:
    """The scheduler's Clock: `now()` stands still and `wait_until` blocks until the test
    moves time past it with `advance_to`."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []
        self.requested: list[datetime] = []  # every instant anyone waited for, in order

    def now(self) -> datetime:
        return self._now

    async def wait_until(self, instant: datetime) -> None:
        if instant <= self._now:
            return
        self.requested.append(instant)
        waiter = (instant, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter[1]
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    @property
    def next_wake(self) -> datetime | None:
        """The earliest instant someone is waiting for."""
        return min((instant for instant, _ in self._waiters), default=None)

    def advance_to(self, instant: datetime) -> None:
        self._now = instant
        for waiter in [w for w in self._waiters if w[0] <= instant]:
            self._waiters.remove(waiter)
            if not waiter[1].done():
                waiter[1].set_result(None)


@dataclass(frozen=True)
class Post:
    channel: str
    quote_id: str
    at: datetime


@dataclass
class RecordingPoster:
    """A DailyPoster that records each post with the clock's time, and can be told to fail
    (`failures[channel]`: exceptions raised in turn) or to hang (`gates[channel]`)."""

    platform: str
    clock: FakeClock
    posts: list[Post] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    attempts: list[tuple[str, datetime]] = field(default_factory=list)
    active: int = 0
    most_active: int = 0
    max_in_flight: int = 4  # DailyPoster: the scheduler's bound on posts at once

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        self.attempts.append((channel, self.clock.now()))
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            gate = self.gates.get(channel) or self.gates.get("*")
            if gate is not None:
                await gate.wait()
            pending = self.failures.get(channel)
            if pending:
                raise pending.pop(0)
            self.posts.append(Post(channel, quote.id, self.clock.now()))
            return f"{self.platform}-message-{len(self.posts)}"
        finally:
            self.active -= 1

    def channel_posts(self, channel: str) -> list[Post]:
        return [p for p in self.posts if p.channel == channel]


async def eventually(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)


class LoopDriver:
    """Runs `Scheduler.run` and moves the fake clock from one wake-up to the next, each time
    only once the loop has settled: nothing in flight and waiting on the clock."""

    def __init__(self, scheduler: Scheduler, clock: FakeClock) -> None:
        self.scheduler = scheduler
        self.clock = clock
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def settle(self) -> datetime:
        task = self.task
        assert task is not None
        await eventually(
            lambda: (
                task.done() or (self.clock.next_wake is not None and not self.scheduler.posting)
            ),
            "the scheduler to settle",
        )
        if task.done():
            task.result()  # raises what the loop died of
            raise AssertionError("the scheduler loop stopped by itself")
        wake = self.clock.next_wake
        assert wake is not None
        return wake

    async def run_until(self, end: datetime) -> None:
        """Let the loop live through every instant up to `end`, then leave the clock at `end`."""
        while (wake := await self.settle()) <= end:
            self.clock.advance_to(wake)
        self.clock.advance_to(end)


@asynccontextmanager
async def running(scheduler: Scheduler, clock: FakeClock) -> AsyncIterator[LoopDriver]:
    driver = LoopDriver(scheduler, clock)
    driver.task = asyncio.create_task(scheduler.run(driver.stop))
    try:
        yield driver
    finally:
        driver.stop.set()
        await asyncio.wait_for(driver.task, PATIENCE)
