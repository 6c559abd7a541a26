"""`DailyService`: the one door to the daily feature's state, built once when the core opens."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.coordination.lease import Leases, WorkerLease
from bot.daily.clock import Clock, SystemClock
from bot.daily.days import Claim, DayRecord
from bot.daily.plan import LOOKBACK_DAYS, Due, due_posts, next_post
from bot.daily.schedules import EVERY_DAY, Schedule
from bot.stats.recorder import StatsRecorder

if TYPE_CHECKING:
    from bot.daily.store import DailyStore


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """A channel's schedule, when it next posts, and how its last day went."""

    schedule: Schedule
    next_post: datetime | None
    last: DayRecord | None


class DailyService:
    """Schedules, their days and bags behind one storage port, the clock, and `changed`.

    `changed` is set by every write that alters a schedule (chat, the CLI, or a post that
    failed for good), so a running scheduler in this process wakes at once. Commands and the
    scheduler reach daily state only through this object (and, in the scheduler's case, its
    `store`).
    """

    def __init__(
        self,
        store: DailyStore,
        clock: Clock | None = None,
        stats: StatsRecorder | None = None,
        leases: Leases | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.changed = asyncio.Event()
        self.stats = stats or StatsRecorder.off()  # the scheduler counts daily posts here
        self.leases = leases or _leases_of(store)

    def worker_lease(self) -> WorkerLease:
        """A new lease (not yet taken) for a scheduler to hold while its claims may be under
        way (bot/coordination)."""
        return self.leases.worker_lease()

    def with_clock(self, clock: Clock) -> DailyService:
        """The same state and change event, read at another clock (`daily tick --at`, tests)."""
        other = DailyService(self.store, clock, self.stats, self.leases)
        other.changed = self.changed
        return other

    async def turn_on(
        self,
        platform: str,
        channel: str,
        local_time: time,
        tz: str,
        theme: str | None,
        by: str,
        weekdays: int = EVERY_DAY,
    ) -> ChannelStatus:
        """Post in the channel at `local_time` in zone `tz` on `weekdays` (a mask; values
        already checked)."""
        now = self.clock.now()
        schedule = Schedule(platform, channel, local_time, tz, theme, True, by, now, None, weekdays)
        await self.store.save_schedule(schedule)
        self.changed.set()
        status = await self.status(platform, channel)
        assert status is not None  # just written
        return status

    async def turn_off(self, platform: str, channel: str, by: str) -> bool:
        """Stop the channel's daily quote (kept, so `on` again keeps its shuffle bag)."""
        schedule = await self.store.schedule(platform, channel)
        if schedule is not None:
            off = replace(schedule, enabled=False, disabled_reason=None, set_by=by)
            await self.store.save_schedule(replace(off, set_at=self.clock.now()))
        self.changed.set()
        return schedule is not None

    async def turn_off_where(self, platform: str, channel_prefix: str, reason: str) -> int:
        """Stop every daily quote whose channel starts with `channel_prefix` (a workspace the
        app was removed from), showing `reason`; how many were on."""
        stopped = [
            replace(s, enabled=False, disabled_reason=reason)
            for s in await self.store.schedules()
            if s.platform == platform and s.channel.startswith(channel_prefix) and s.enabled
        ]
        for schedule in stopped:
            await self.store.save_schedule(schedule)
        if stopped:
            self.changed.set()
        return len(stopped)

    async def status(self, platform: str, channel: str) -> ChannelStatus | None:
        schedule = await self.store.schedule(platform, channel)
        if schedule is None:
            return None
        records = await self.store.records_since(self._since())
        last = (await self.store.latest()).get((platform, channel))
        return ChannelStatus(schedule, next_post(schedule, self.clock.now(), records), last)

    async def overview(self) -> list[ChannelStatus]:
        """Every channel's status, by platform and channel."""
        schedules = await self.store.schedules()
        records = await self.store.records_since(self._since())
        latest = await self.store.latest()
        now = self.clock.now()
        return [
            ChannelStatus(s, next_post(s, now, records), latest.get((s.platform, s.channel)))
            for s in schedules
        ]

    async def due(self, catchup: timedelta, platforms: Collection[str]) -> list[Due]:
        """What a scheduler pass for `platforms` would do at the clock's instant, doing none of
        it: `lambert daily tick --dry-run`."""
        now = self.clock.now()
        schedules = [s for s in await self.store.schedules() if s.platform in platforms]
        since = now.astimezone(UTC).date() - timedelta(LOOKBACK_DAYS + 1)
        return due_posts(now, schedules, await self.store.records_since(since), catchup)

    async def record_failed(self, claim: Claim, reason: str, *, disable: bool) -> None:
        """A day that failed for good; `disable` also turns its schedule off (and says so)."""
        await self.store.record_failed(claim, reason, self.clock.now(), disable=disable)
        if disable:
            self.changed.set()

    def _since(self) -> date:
        # A local date is at most a day behind the UTC one (zones run from -12 to +14 h).
        return (self.clock.now().astimezone(UTC) - timedelta(days=1)).date()


def _leases_of(store: DailyStore) -> Leases:
    """The lease tables beside a store built by hand (open_core hands its own)."""
    from bot.coordination.store import LeaseStore

    return Leases(LeaseStore(store.engine))
