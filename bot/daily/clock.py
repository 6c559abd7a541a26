"""Where the daily feature reads the time and waits: the real clock, or a stopped one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol

# The years the scheduler can hold: days and catch-up windows are computed around "now", which
# near year 1 or 9999 do not fit in a datetime (OverflowError).
YEARS = range(1970, 9999)


class Clock(Protocol):
    """The real clock, a test's fake, or `lambert daily tick --at`'s stopped instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""

    async def wait_until(self, instant: datetime) -> None:
        """Return once `now()` has reached `instant` (at once if it has); cancellable."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def wait_until(self, instant: datetime) -> None:
        # A wall-clock deadline re-checked at least every minute (no event to wait on): one
        # long monotonic sleep would oversleep across a suspend or an NTP step.
        while (left := (instant - self.now()).total_seconds()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(left, 60.0))


class StoppedClock:
    """Always one instant: `lambert daily tick --at`."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    async def wait_until(self, instant: datetime) -> None:
        return None
