"""`DailyService`: the one door to the daily feature's state, built once when the core opens."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.coordination.lease import Leases
from bot.daily.clock import Clock, SystemClock
from bot.daily.days import Claim, DayKey, DayRecord, Outcome, PostStatus
from bot.daily.plan import LOOKBACK_DAYS, Action, Due, due_posts, next_due
from bot.daily.report import TickReport, log_outcome, log_recovered
from bot.daily.schedules import EVERY_DAY, Schedule, tzdata_version
from bot.metrics import metrics
from bot.stats.recorder import StatsRecorder

if TYPE_CHECKING:
    from bot.daily.due_store import Key, Read
    from bot.daily.store import DailyStore

log = logging.getLogger(__name__)

# Seconds between tries of a write about a post under way while the database is away (a
# restart, a dropped connection): about a minute in all, then the pass's recovery settles it.
WRITE_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
# Schedules a pass reads and plans at a time, yielding the loop between two pages.
PAGE = 1_000


@dataclass(frozen=True, slots=True)
class Batch:
    """Schedules a pass plans together, with their recent days; `read`: those that were due,
    as read (moved on once planned)."""

    schedules: list[Schedule]
    records: dict[DayKey, DayRecord]
    read: dict[Key, Read] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    schedule: Schedule
    next_post: datetime | None
    last: DayRecord | None


class DailyService:
    """The one door to daily state for commands and the scheduler (every claim through
    `act`, every outcome through `record`). `changed` is set by every write that alters a
    schedule (chat, the CLI, a post failed for good): a scheduler in this process wakes."""

    def __init__(
        self,
        store: DailyStore,
        clock: Clock | None = None,
        stats: StatsRecorder | None = None,
        leases: Leases | None = None,
    ) -> None:
        self.store, self.clock = store, clock or SystemClock()
        self.changed = asyncio.Event()
        self.stats = stats or StatsRecorder()
        if leases is None:  # a store built by hand: its lease tables (open_core hands its own)
            from bot.coordination.store import LeaseStore

            leases = Leases(LeaseStore(store.engine))
        self.leases = leases

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
        """Post in the channel at `local_time` in `tz` on `weekdays` (values already checked)."""
        now = self.clock.now()
        schedule = Schedule(platform, channel, local_time, tz, theme, True, by, now, None, weekdays)
        await self._save(schedule)
        return (await self._statuses([schedule], {(platform, channel)}))[0]

    async def turn_off(self, platform: str, channel: str, by: str) -> bool:
        """Stop the channel's daily quote (kept, so `on` again keeps its shuffle bag)."""
        if (schedule := await self.store.schedule(platform, channel)) is None:
            return False
        now = self.clock.now()
        await self._save(
            replace(schedule, enabled=False, disabled_reason=None, set_by=by, set_at=now)
        )
        return True

    async def turn_off_where(self, platform: str, channel_prefix: str, reason: str) -> int:
        """Stop every daily quote whose channel starts with `channel_prefix` (a workspace the
        app was removed from), showing `reason`; how many were on."""
        stopped = [
            replace(s, enabled=False, disabled_reason=reason)
            for s in await self.store.schedules()
            if s.platform == platform and s.channel.startswith(channel_prefix) and s.enabled
        ]
        await self._save(*stopped)
        return len(stopped)

    async def _save(self, *schedules: Schedule) -> None:
        await self.store.save_schedules(schedules)
        if schedules:
            self.changed.set()

    async def status(self, platform: str, channel: str) -> ChannelStatus | None:
        schedule = await self.store.schedule(platform, channel)
        return (await self._statuses([schedule], {(platform, channel)}))[0] if schedule else None

    async def overview(self) -> list[ChannelStatus]:
        return await self._statuses(await self.store.schedules())

    async def _statuses(
        self, schedules: list[Schedule], keys: Collection[Key] | None = None
    ) -> list[ChannelStatus]:
        now = self.clock.now()
        # A local date is at most a day behind the UTC one (zones run from -12 to +14 h).
        since = (now.astimezone(UTC) - timedelta(1)).date()
        records, latest = await self.store.records_since(since, keys), await self.store.latest(keys)
        return [
            ChannelStatus(s, next_due(s, now, taken=records), latest.get((s.platform, s.channel)))
            for s in schedules
        ]

    async def load(
        self, now: datetime, platforms: Collection[str], *, everything: bool = False
    ) -> AsyncIterator[Batch]:
        """What a pass at `now` plans for `platforms`, a page at a time, with recent days:
        DueIndex.first_pages, then the pages after it (every schedule when `everything`).
        Any other has nothing to do at `now` (docs/architecture.md)."""
        # One UTC day more than the look-back covers it in every zone (offsets -12 to +14 h).
        since = now.astimezone(UTC).date() - timedelta(LOOKBACK_DAYS + 1)
        seen: set[Key] = set()
        index = self.store
        if everything:
            on = [s for s in await index.schedules() if s.platform in platforms]
            yield Batch(on, await index.records_since(since))
            return

        async def batch(rows: list[Read]) -> Batch:
            fresh = {k: (s, at) for s, at in rows if (k := (s.platform, s.channel)) not in seen}
            seen.update(fresh)
            read = {k: (s, at) for k, (s, at) in fresh.items() if at is None or at <= now}
            records = await index.records_since(since, fresh)
            return Batch([s for s, _ in fresh.values()], records, read)

        first = await index.first_pages(now, platforms, PAGE)
        yield await batch(first["retrying"] + first["replayed"])
        for platform, kind in itertools.product(sorted(platforms), ("unplanned", "due")):
            page = first[f"{kind}:{platform}"]
            while page:
                yield await batch(page)
                if len(page) < PAGE:
                    break
                schedule, at = page[-1]
                page = await index.due(now, platform, (at, schedule.channel), PAGE)

    async def planned(self, batch: Batch, now: datetime, done: Collection[Key]) -> None:
        """Move each schedule of `batch` in `done` that was due on to its first slot after
        `now`: a pass at `now` has acted on every slot of it up to `now`."""
        moves = [(k, at, next_due(s, now)) for k, (s, at) in batch.read.items() if k in done]
        await self.store.advance(moves)

    async def next_due(self, now: datetime, platforms: Collection[str]) -> datetime | None:
        return await self.store.next_due(now, platforms)

    async def check_zones(self) -> None:
        """At a scheduler's start: a zone database other than the one the next due instants
        were computed with forgets them all; the next pass plans every schedule in full."""
        version = tzdata_version()
        found, forgotten = await self.store.zone_version(version)
        if found not in (None, version):
            log.info(
                "zone database %s (was %s): the next due instant of %d schedule(s) is "
                "computed again",
                version,
                found or "not recorded",
                forgotten,
            )

    async def due(self, catchup: timedelta, platforms: Collection[str]) -> list[Due]:
        """What a pass would do at the clock's instant, doing none of it (`daily tick
        --dry-run`): every schedule read if the zone database changed."""
        now, stale = self.clock.now(), (await self.store.zone_version())[0] != tzdata_version()
        batches = [b async for b in self.load(now, platforms, everything=stale)]
        return [d for b in batches for d in due_posts(now, b.schedules, b.records, catchup)]

    async def recover(
        self, now: datetime, worker: str, tracked: Collection[str], report: TickReport
    ) -> None:
        """DailyStore.recover_claims, its unknown days counted and reported."""
        retried, unknown = await self.store.recover_claims(now, worker, tracked)
        log_recovered(retried, unknown)
        for record in unknown:
            metrics().daily_post(PostStatus.UNKNOWN)
            reason = "a process stopped while posting it"
            report.add(Outcome(PostStatus.UNKNOWN, record.key, now, None, reason, record))

    async def act(
        self, due: Due, now: datetime, worker: str | None, report: TickReport
    ) -> Claim | None:
        """Take a due day, or a `retrying` one back, to post it; or record it missed or given
        up. None when there is nothing to post, or another process holds the day."""
        s, record = due.schedule, due.record
        day = (s.platform, s.channel, due.local_date)
        if due.action is Action.MISS:
            await self.record(Outcome(PostStatus.MISSED, day, now), report)
            return None
        if record is None:
            return await self.store.claim(*day, s.theme, now, worker)
        if due.action is Action.GIVE_UP:
            reason = f"gave up after {record.attempts} attempts: {record.reason}"
        elif record.resend_until is None or now <= record.resend_until:
            return await self.store.reclaim(record, s.theme, now, worker)
        else:  # it may have posted, and a resend would no longer be deduped: never resend
            reason = f"{record.reason}; no answer in time to resend safely"
        await self.record(Outcome(PostStatus.FAILED, day, now, None, reason, record), report)
        return None

    async def start_sending(self, claim: Claim) -> bool:
        return await _retried("marking it sending", lambda: self.store.start_sending(claim))

    async def record(self, outcome: Outcome, report: TickReport | None = None) -> bool:
        """The one way an outcome is kept: written, logged, counted (metrics; stats for a
        post), reported. A write about a post under way is tried again while the database is
        away; a give-up or a miss that found the day settled already is False, and no more."""
        if outcome.claim is not None:
            await _retried(f"recording it {outcome.status}", lambda: self.store.record(outcome))
        elif not await self.store.record(outcome):
            return False
        if outcome.disable:
            self.changed.set()
        if outcome.status is PostStatus.POSTED:
            self.stats.daily_posted(*outcome.day[:2])
        log_outcome(outcome)
        label = PostStatus.UNKNOWN if outcome.unknown else outcome.status
        metrics().daily_post(label, outcome.due, outcome.at)
        if report is not None:
            report.add(outcome)
        return True


async def _retried(what: str, call: Callable[[], Awaitable[bool]]) -> bool:
    """A write about a post under way (idempotent) tried while the database is away."""
    for tries, delay in enumerate(WRITE_RETRIES):
        try:
            return await call()
        except Exception as exc:
            # One line per write, not per try: a database away for a minute is one event, and
            # INFO (serve's level, not a one-shot command's): if the tries all fail, whoever
            # called says so, once; if one works, nothing was lost.
            level = logging.INFO if tries == 0 else logging.DEBUG
            span = sum(WRITE_RETRIES)
            log.log(level, "daily post: %s failed (%r); trying again for %g s", what, exc, span)
            await asyncio.sleep(delay)  # the real clock's: the database's time, not a day's
    return await call()
