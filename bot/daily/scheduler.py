"""The one daily-post loop for every platform: claim what is due, post it, record the outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.coordination.lease import WorkerLease
from bot.daily.clock import Clock
from bot.daily.days import Claim, DayKey, DayRecord
from bot.daily.plan import LOOKBACK_DAYS, Action, Due, due_posts, next_wake
from bot.daily.report import TickReport
from bot.daily.schedules import Schedule
from bot.daily.service import DailyService
from bot.metrics import metrics
from bot.ports import (
    AmbiguousPostError,
    DailyPoster,
    PermanentPostError,
    PostError,
    TransientPostError,
)
from bot.quotes.service import QuoteService

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_CATCHUP = timedelta(hours=6)
# Changes from another process (`lambert daily set`) are noticed by re-reading this often;
# changes from chat in this process wake the loop at once.
RESCAN = timedelta(minutes=1)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
# Seconds between tries of a write about a post under way while the database is away (a
# restart, a dropped connection): about a minute in all, then the pass's recovery settles it.
WRITE_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


def retry_delay(attempt: int, hint: float | None) -> timedelta:
    """Exponential backoff from one minute to an hour, never sooner than the platform asks."""
    doublings = min(max(attempt - 1, 0), 10)  # capped: 2**10 minutes is past LAST_RETRY anyway
    delay = min(FIRST_RETRY * (1 << doublings), LAST_RETRY)
    return max(delay, timedelta(seconds=hint or 0))


class Scheduler:
    """Posts each channel's daily quote once per local date, through the platforms' posters.

    `run(stop)` is the long-lived loop (`lambert serve`); `tick()` is one pass
    (`lambert daily tick`). Schedules of platforms without a poster here are left alone.
    Each platform has at most its poster's `max_in_flight` posts under way, so one slow or
    failing platform never holds up another's.
    """

    def __init__(
        self,
        quotes: QuoteService,
        daily: DailyService,
        posters: Mapping[str, DailyPoster],
        *,
        catchup: timedelta = DEFAULT_CATCHUP,
        rescan: timedelta = RESCAN,
    ) -> None:
        self.quotes = quotes
        self.daily = daily
        self.store = daily.store
        self.posters = dict(posters)
        self.clock: Clock = daily.clock
        self.catchup = catchup
        self.rescan = rescan
        self._limits = {
            name: asyncio.Semaphore(poster.max_in_flight) for name, poster in self.posters.items()
        }
        self._in_flight: set[asyncio.Task[None]] = set()
        self._tokens: dict[asyncio.Task[None], str] = {}  # each post's claim
        # Held (and renewed) while claims may be under way; taken at the first pass.
        self.lease: WorkerLease = daily.worker_lease()
        self._running = False

    @property
    def posting(self) -> int:
        """How many posts are in flight."""
        return len(self._in_flight)

    async def tick(self) -> TickReport:
        """One pass at the clock's instant; returns once every post it started has an outcome."""
        report = TickReport()
        tasks: list[asyncio.Task[None]] = []
        async with self.lease.renewed():
            try:
                tasks = await self._pass(self.clock.now(), report)
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    self._forget(task)
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Post until `stop` is set, waking when the next post is due; then let posts finish."""
        if self._running:
            raise RuntimeError("the daily scheduler is already running")
        self._running = True
        try:
            # Released on the way out, even when cut short: what is still sending is then
            # another start's to report.
            async with self.lease.renewed():
                try:
                    while not stop.is_set():
                        self.daily.changed.clear()
                        now = self.clock.now()
                        try:
                            await self._pass(now, TickReport())
                            wake = await self._next_wake(now)
                        except Exception:  # e.g. the database away: try again, never die
                            log.exception(
                                "daily scheduler pass failed; trying again in %s", self.rescan
                            )
                            wake = now + self.rescan
                        await self._sleep(wake, stop)
                finally:
                    # Never cancel a post: a cancelled one leaves its day `unknown`.
                    await asyncio.gather(*self._in_flight, return_exceptions=True)
                    self._in_flight.clear()
                    self._tokens.clear()
        finally:
            self._running = False

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._tokens.pop(task, None)

    async def _recover(self, now: datetime) -> None:
        """Take back the days of schedulers that are gone (every pass: one may die at any time,
        while this one runs), and this one's that no post of it is sending any more (a write
        about it failed); a live one's claims are its own to finish."""
        token = await self.lease.acquire()
        tracked = {t for task, t in self._tokens.items() if not task.done()}
        retried, unknown = await self.store.recover_claims(now, token, tracked)
        for record in retried:
            log.info(
                "daily post for %s/%s on %s was claimed but never sent (a process stopped): "
                "it is due again",
                record.platform,
                record.channel,
                record.local_date,
            )
        for record in unknown:
            log.warning(
                "daily post for %s/%s on %s (quote %s) may or may not have gone out: a process "
                "stopped while posting it. It will not be posted again; check the channel.",
                record.platform,
                record.channel,
                record.local_date,
                record.quote_id,
            )

    async def _load(self, now: datetime) -> tuple[list[Schedule], dict[DayKey, DayRecord]]:
        schedules = [s for s in await self.store.schedules() if s.platform in self.posters]
        # One UTC day more than the look-back covers it in every zone (offsets -12 to +14 h).
        since = now.astimezone(UTC).date() - timedelta(LOOKBACK_DAYS + 1)
        records = await self.store.records_since(since)
        return schedules, records

    async def _pass(self, now: datetime, report: TickReport) -> list[asyncio.Task[None]]:
        """Take back abandoned days, record misses and give-ups, claim what is due, and start
        those posts."""
        await self._recover(now)
        schedules, records = await self._load(now)
        tasks = []
        for due in due_posts(now, schedules, records, self.catchup):
            claim = await self._act(due, now, report)
            if claim is not None:
                # In flight from the start: only the loop takes tasks out, once it has seen
                # them finish (a retry they recorded may change its next wake-up).
                task = asyncio.create_task(self._post(claim, report, due.scheduled_at))
                self._in_flight.add(task)
                self._tokens[task] = claim.token
                tasks.append(task)
        return tasks

    async def _act(self, due: Due, now: datetime, report: TickReport) -> Claim | None:
        s, day = due.schedule, due.local_date
        if due.action is Action.POST:
            return await self.store.claim(
                s.platform, s.channel, day, s.theme, now, self.lease.token
            )
        if due.action is Action.RETRY and due.record is not None:
            until = due.record.resend_until
            if until is not None and now > until:
                # It may have posted, and a resend would no longer be deduped: never resend.
                reason = f"{due.record.reason}; no answer in time to resend safely"
                if await self.store.give_up(due.record, reason, now):
                    log.warning(
                        "daily post for %s on %s: outcome unknown: %s", s.where, day, reason
                    )
                    metrics().daily_post("unknown")
                    quote_id = due.record.quote_id
                    report.add_failed(s.platform, s.channel, day, quote_id, reason, unknown=True)
                return None
            return await self.store.reclaim(due.record, s.theme, now, self.lease.token)
        if due.action is Action.MISS:
            if await self.store.record_missed(s.platform, s.channel, day, now):
                log.warning("daily post for %s on %s missed: too late to post", s.where, day)
                metrics().daily_post("missed")
                report.add_missed(s.platform, s.channel, day)
        elif due.action is Action.GIVE_UP and due.record is not None:
            reason = f"gave up after {due.record.attempts} attempts: {due.record.reason}"
            if await self.store.give_up(due.record, reason, now):
                log.warning("daily post for %s on %s failed: %s", s.where, day, reason)
                unknown = due.record.resend_until is not None
                metrics().daily_post("unknown" if unknown else "failed")
                quote_id = due.record.quote_id
                report.add_failed(s.platform, s.channel, day, quote_id, reason, unknown=unknown)
        return None

    async def _post(self, claim: Claim, report: TickReport, due: datetime | None = None) -> None:
        where = f"{claim.platform}/{claim.channel}"
        day = (claim.platform, claim.channel, claim.local_date)
        async with self._limits[claim.platform]:
            quote = await self.quotes.quote(claim.quote_id)
            if quote is None:
                reason = f"quote {claim.quote_id} is no longer in the corpus"
                await self._write(
                    "recording it failed",
                    lambda: self.daily.record_failed(claim, reason, disable=False),
                )
                unknown = claim.resend_until is not None
                metrics().daily_post("unknown" if unknown else "failed")
                report.add_failed(*day, claim.quote_id, reason, unknown=unknown)
                return
            if not await self._write("marking it sending", lambda: self.store.start_sending(claim)):
                log.info("daily post for %s: another process took this day over", where)
                return
            started = self.clock.now()
            poster = self.posters[claim.platform]
            try:
                message_id = await poster.post_daily(claim.channel, quote, claim.local_date)
            except AmbiguousPostError as exc:
                await self._ambiguous(claim, exc, started, report)
            except PermanentPostError as exc:
                failed = exc.reason
                await self._write(
                    "recording it failed",
                    lambda: self.daily.record_failed(claim, failed, disable=True),
                )
                log.warning(
                    "daily post for %s failed for good, schedule off: %s", where, exc.reason
                )
                unknown = claim.resend_until is not None
                metrics().daily_post("unknown" if unknown else "failed")
                report.add_failed(*day, claim.quote_id, exc.reason, disabled=True, unknown=unknown)
            except Exception as exc:  # the port's contract: anything else is transient
                # Only a PostError's reason is vetted for admins; other messages stay in the log.
                reason = exc.reason if isinstance(exc, PostError) else type(exc).__name__
                hint = exc.retry_after if isinstance(exc, TransientPostError) else None
                now = self.clock.now()
                retry_at = now + retry_delay(claim.attempt, hint)
                await self._write(
                    "recording its retry",
                    lambda: self.store.record_retry(claim, reason, retry_at, now),
                )
                log.warning(
                    "daily post for %s failed, retry at %s: %s",
                    where,
                    retry_at,
                    reason,
                    exc_info=not isinstance(exc, PostError),
                )
                metrics().daily_post("retrying")
                report.add_failed(*day, claim.quote_id, reason, retry_at=retry_at)
            else:
                done = self.clock.now()
                await self._write(
                    "recording it posted",
                    lambda: self.store.record_posted(claim, message_id, done),
                )
                self.daily.stats.daily_posted(claim.platform, claim.channel)
                log.info("daily post for %s on %s: %s", where, claim.local_date, quote.id)
                metrics().daily_post("posted", due, self.clock.now())
                report.add_posted(*day, quote.id)

    async def _write(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """A write about a post under way, tried again while the database is away (each such
        write is idempotent); the last failure is raised."""
        for delay in WRITE_RETRIES:
            try:
                return await call()
            except Exception as exc:
                log.warning("daily post: %s failed (%r); trying again in %g s", what, exc, delay)
                await asyncio.sleep(delay)  # the real clock's: the database's time, not a day's
        return await call()

    async def _ambiguous(
        self, claim: Claim, exc: AmbiguousPostError, started: datetime, report: TickReport
    ) -> None:
        """The post may be on the platform: resend only while the platform dedupes it (counted
        from the first such attempt), else record `unknown`, never to be sent again."""
        where = f"{claim.platform}/{claim.channel}"
        day = (claim.platform, claim.channel, claim.local_date)
        now = self.clock.now()
        retry_at = now + retry_delay(claim.attempt, None)
        until = claim.resend_until
        if until is None and exc.resend_within is not None:
            until = started + timedelta(seconds=exc.resend_within)
        if until is not None and retry_at <= until:
            await self._write(
                "recording its retry",
                lambda: self.store.record_retry(
                    claim, exc.reason, retry_at, now, resend_until=until
                ),
            )
            log.warning(
                "daily post for %s: no answer (%s); resending with the same key at %s",
                where,
                exc.reason,
                retry_at,
            )
            metrics().daily_post("retrying")
            report.add_failed(*day, claim.quote_id, exc.reason, retry_at=retry_at)
            return
        await self._write(
            "recording it unknown", lambda: self.store.record_unknown(claim, exc.reason, now)
        )
        log.warning(
            "daily post for %s on %s (quote %s): outcome unknown (%s). It will not be posted "
            "again; check the channel.",
            where,
            claim.local_date,
            claim.quote_id,
            exc.reason,
        )
        metrics().daily_post("unknown")
        report.add_failed(*day, claim.quote_id, f"outcome unknown: {exc.reason}", unknown=True)

    async def _next_wake(self, now: datetime) -> datetime:
        schedules, records = await self._load(now)
        due = next_wake(now, schedules, records)
        return min(due, now + self.rescan) if due else now + self.rescan

    async def _sleep(self, until: datetime, stop: asyncio.Event) -> None:
        """Until `until`, a schedule change here, `stop`, or a post finishing (it may retry)."""
        helpers = [
            asyncio.create_task(self.clock.wait_until(until)),
            asyncio.create_task(stop.wait()),
            asyncio.create_task(self.daily.changed.wait()),
        ]
        await asyncio.wait([*helpers, *self._in_flight], return_when=asyncio.FIRST_COMPLETED)
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        for task in [t for t in self._in_flight if t.done()]:
            self._forget(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("daily post task failed", exc_info=task.exception())
