"""The one daily-post loop for every platform: claim what is due, post it, record the outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from operator import itemgetter

from bot import ports
from bot.coordination.lease import WorkerLease, owner
from bot.daily.days import Claim, Outcome, PostStatus
from bot.daily.plan import Action, Due, due_posts
from bot.daily.report import TickReport
from bot.daily.service import DailyService
from bot.quotes.service import QuoteService
from bot.storage.connection import is_database_error

log = logging.getLogger(__name__)

DEFAULT_CATCHUP = timedelta(hours=6)
# Changes from another process (`lambert daily set`) are noticed by re-reading this often;
# changes from chat in this process wake the loop at once.
RESCAN = timedelta(minutes=1)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
# How long past its due instant a day that falls to another live replica is left to it: its
# pass claims before it posts, and a stuck one (its lease live up to a minute) delays it no more.
GRACE = timedelta(seconds=30)
_FIRST, _TAKEN_OVER, _LEFT = range(3)  # when a pass acts on a due day (Scheduler._turn)


class Scheduler:
    """Posts each channel's daily quote once per local date through the platforms' posters
    (none here: left alone): `run(stop)` is serve's loop, `tick()` one pass. A platform has at
    most its poster's `max_in_flight` posts under way (a slow one never holds up another's);
    replicas share the days out, and the claim alone decides who posts, so none posts twice."""

    def __init__(
        self,
        quotes: QuoteService,
        daily: DailyService,
        posters: Mapping[str, ports.DailyPoster],
        *,
        catchup: timedelta = DEFAULT_CATCHUP,
        rescan: timedelta = RESCAN,
        grace: timedelta = GRACE,
    ) -> None:
        self.quotes, self.daily, self.posters = quotes, daily, dict(posters)
        self.catchup, self.rescan, self.grace = catchup, rescan, grace
        # The earliest instant a day this pass left to another replica is overdue.
        self._look_again: datetime | None = None
        self._limits = {n: asyncio.Semaphore(p.max_in_flight) for n, p in self.posters.items()}
        self._in_flight: set[asyncio.Task[None]] = set()  # each named by its claim's token
        # Held (and renewed) while claims may be under way; taken at the first pass.
        self.lease: WorkerLease = daily.leases.worker_lease()
        self._running = False
        # The database's failure that ended a post's writes in this pass: its other posts are
        # not started (their days stay claimed for the next pass anywhere to take back) rather
        # than each waiting out its own retries.
        self._lost: Exception | None = None

    @property
    def posting(self) -> int:
        return len(self._in_flight)

    async def tick(self) -> TickReport:
        """One pass at the clock's instant, returning once every post it started has an outcome.
        A database that goes away meanwhile ends it with its error, raised then; the posts not
        yet started are left to the next tick."""
        report = TickReport()
        failure: Exception | None = None
        async with self.lease.renewed():
            try:
                await self.daily.check_zones()
                await self._pass(self.daily.clock.now(), report)
            except Exception as exc:  # the posts it started are still settled first
                failure = exc
                if is_database_error(exc):
                    self._lost = self._lost or exc
            started = list(self._in_flight)
            results = await asyncio.gather(*started, return_exceptions=True)
            self._in_flight.difference_update(started)
            failure = failure or next((r for r in results if isinstance(r, Exception)), None)
            if failure is not None:
                if self._lost is not None:
                    self.lease.abandon()  # the database is gone: the lease expires by itself
                raise failure
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Post until `stop` is set, waking when the next post is due; then let posts finish."""
        if self._running:
            raise RuntimeError("the daily scheduler is already running")
        self._running = True
        # Released on the way out, even when cut short: what is still sending is then another
        # start's to report.
        async with self.lease.renewed():
            try:
                try:
                    await self.daily.check_zones()
                except Exception:  # e.g. the database away: the passes say so, and try again
                    log.exception("daily scheduler: checking the zone database version failed")
                while not stop.is_set():
                    self.daily.changed.clear()
                    now = self.daily.clock.now()
                    try:
                        await self._pass(now, TickReport())
                        due = await self.daily.next_due(now, self.posters)
                        wake = min(t for t in (due, self._look_again, now + self.rescan) if t)
                    except Exception as exc:  # e.g. the database away: try again, never die
                        # The database's own error is one line (it names the database and the
                        # cause); anything else is a bug, worth its traceback.
                        log.warning(
                            "daily scheduler pass failed; trying again in %s: %s",
                            self.rescan,
                            _first_line(exc),
                            exc_info=not is_database_error(exc),
                        )
                        wake = now + self.rescan
                    await self._sleep(wake, stop)
            finally:
                # Never cancel a post: a cancelled one leaves its day `unknown`.
                await asyncio.gather(*self._in_flight, return_exceptions=True)
                self._in_flight.clear()
                self._running = False

    async def _pass(self, now: datetime, report: TickReport) -> None:
        """Take back abandoned days, record misses and give-ups, claim what is due, post it."""
        # Every pass: a scheduler may die at any time. This one's own days that no post of it
        # is sending any more (a write about it failed) go back too.
        self._lost = None  # a new pass: the database is tried again
        token = await self.lease.acquire()
        tracked = {task.get_name() for task in self._in_flight if not task.done()}
        await self.daily.recover(now, token, tracked, report)
        workers: set[str] = set()  # read at the pass's first due day: most passes have none
        self._look_again = None
        async for batch in self.daily.load(now, self.posters):
            done = {(s.platform, s.channel) for s in batch.schedules}
            dues = due_posts(now, batch.schedules, batch.records, self.catchup)
            if dues and not workers:
                workers = await self.lease.peers()
            turns = [(self._turn(due, now, token, workers), due) for due in dues]
            for turn, due in sorted(turns, key=itemgetter(0)):
                claim = None if turn == _LEFT else await self.daily.act(due, now, token, report)
                if claim is not None:
                    # In flight from the start: only the loop takes tasks out, once it has
                    # seen them finish (a retry they recorded may change its next wake-up).
                    post = self._post(claim, report, due.scheduled_at)
                    self._in_flight.add(asyncio.create_task(post, name=claim.token))
                elif due.action is Action.POST:
                    # Held by or left to another, or nothing to draw: read again next pass.
                    done.discard((due.schedule.platform, due.schedule.channel))
            await self.daily.planned(batch, now, done)
            await asyncio.sleep(0)  # a page at a time: commands are answered in between

    def _turn(self, due: Due, now: datetime, token: str, workers: Collection[str]) -> int:
        """When this pass acts on `due`: a day to claim that falls to another of the live
        `workers` is left to it until `grace` past its slot (or its retry), then taken over."""
        key = f"{due.schedule.platform}/{due.schedule.channel}"
        if due.action not in (Action.POST, Action.RETRY) or owner(key, workers) == token:
            return _FIRST
        # Set within a rescan of its slot: the replica it falls to may sleep past it unaware.
        if due.scheduled_at < due.schedule.set_at + self.rescan:
            return _FIRST
        overdue = ((due.record and due.record.next_attempt_at) or due.scheduled_at) + self.grace
        if now >= overdue:
            return _TAKEN_OVER
        self._look_again = min(self._look_again or overdue, overdue)
        return _LEFT

    async def _post(self, claim: Claim, report: TickReport, due: datetime | None = None) -> None:
        async with self._limits[claim.platform]:
            if self._lost is not None:  # nothing sent: the day is taken back by a later pass
                return
            try:
                outcome = await self._attempt(claim, due)
                if outcome is not None:
                    await self.daily.record(outcome, report)
            except Exception as exc:
                if is_database_error(exc):
                    self._lost = self._lost or exc
                raise

    async def _attempt(self, claim: Claim, due: datetime | None) -> Outcome | None:
        """Send the claimed day's quote; how it went (None: another process took it over)."""
        failed = Outcome(PostStatus.FAILED, claim.key, self.daily.clock.now(), claim)
        quote = await self.quotes.quote(claim.quote_id)
        if quote is None:
            return replace(failed, reason=f"quote {claim.quote_id} is no longer in the corpus")
        if not await self.daily.start_sending(claim):
            log.info("daily post for %s/%s: another process took this day over", *claim.key[:2])
            return None
        started, poster = self.daily.clock.now(), self.posters[claim.platform]
        try:
            message_id = await poster.post_daily(claim.channel, quote, claim.local_date)
        except ports.AmbiguousPostError as exc:
            return self._ambiguous(claim, exc, started)
        except ports.PermanentPostError as exc:
            return replace(failed, at=self.daily.clock.now(), reason=exc.reason, disable=True)
        except Exception as exc:  # the port's contract: anything else is transient
            if isinstance(exc, ports.PostError):  # its reason is vetted for admins
                hint = exc.retry_after if isinstance(exc, ports.TransientPostError) else None
                return self._retry(claim, exc.reason, hint)
            return replace(self._retry(claim, type(exc).__name__), error=exc)  # trace logged
        done = self.daily.clock.now()
        return Outcome(PostStatus.POSTED, claim.key, done, claim, message_id=message_id, due=due)

    def _retry(self, claim: Claim, reason: str, hint: float | None = None) -> Outcome:
        """Exponential backoff from one minute to an hour, never sooner than the platform asks
        (doublings capped: 2**10 minutes is past LAST_RETRY anyway)."""
        delay = min(FIRST_RETRY * (1 << min(claim.attempt - 1, 10)), LAST_RETRY)
        now = self.daily.clock.now()
        at = now + max(delay, timedelta(seconds=hint or 0))
        return Outcome(PostStatus.RETRYING, claim.key, now, claim, reason, retry_at=at)

    def _ambiguous(self, claim: Claim, exc: ports.AmbiguousPostError, started: datetime) -> Outcome:
        """The post may be on the platform: resend only while the platform dedupes it (counted
        from the first such attempt), else `unknown`, never to be sent again."""
        until = claim.resend_until
        if until is None and exc.resend_within is not None:
            until = started + timedelta(seconds=exc.resend_within)
        retry = replace(self._retry(claim, exc.reason), resend_until=until)
        if until is not None and retry.retry_at is not None and retry.retry_at <= until:
            return retry
        return Outcome(PostStatus.UNKNOWN, claim.key, retry.at, claim, exc.reason)

    async def _sleep(self, until: datetime, stop: asyncio.Event) -> None:
        """Until `until`, a schedule change here, `stop`, or a post finishing (it may retry)."""
        waits = (self.daily.clock.wait_until(until), stop.wait(), self.daily.changed.wait())
        helpers = [asyncio.create_task(wait) for wait in waits]
        await asyncio.wait([*helpers, *self._in_flight], return_when=asyncio.FIRST_COMPLETED)
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        for task in [t for t in self._in_flight if t.done()]:
            self._in_flight.discard(task)
            failure = None if task.cancelled() else task.exception()
            if failure is not None and is_database_error(failure):
                log.warning("daily post stopped: %s", _first_line(failure))
            elif failure is not None:
                log.error("daily post task failed", exc_info=failure)


def _first_line(exc: BaseException) -> str:
    # A database error's first line names the database and the fix.
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
