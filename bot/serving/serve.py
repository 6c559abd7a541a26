"""`lambert serve`: each platform kept connected and the one daily scheduler, until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import aiosqlite

from bot.config import ConfigError, Settings
from bot.daily.scheduler import Scheduler
from bot.logs import one_line
from bot.platforms import served
from bot.ports import ChatPlatform
from bot.runtime import Core, open_core
from bot.serving.health import HEARTBEAT_SECONDS, is_connected, record_heartbeats
from bot.serving.probes import ReadyTiming, expose

log = logging.getLogger(__name__)

T = TypeVar("T")

# Daily posts still sending after a stop get this long: a hung post must not keep the process up.
SHUTDOWN_GRACE = 30.0


def on_signals(stop: asyncio.Event) -> asyncio.Event:
    """`stop`, set at SIGTERM or SIGINT."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread / Windows
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    return stop


@dataclass(frozen=True)
class Backoff:
    """The wait after n failures in a row: `first` doubling up to `longest`, drawn between half
    and all of that ("equal jitter": processes restarted together do not knock in step)."""

    first: float = 1.0
    longest: float = 60.0
    jitter: Callable[[], float] = random.random

    def delay(self, failures: int) -> float:
        ceiling = min(self.longest, self.first * 2 ** min(max(failures - 1, 0), 30))
        return float(ceiling * (0.5 + 0.5 * self.jitter()))


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    backoff: Backoff | None = None,
    ready: ReadyTiming | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT (or `stop`); in-flight commands and posts finish first
    (posts within SHUTDOWN_GRACE). A platform that cannot be reached is tried again while the
    others and the scheduler run; a token a platform rejects stops everything (ConfigError)."""
    stop = on_signals(stop or asyncio.Event())  # first, so a stop is honoured throughout
    async with open_core(settings, integrity_check=True) as core:
        if stop.is_set():
            log.info("stopped before connecting")
            return 0
        platforms: list[ChatPlatform] = [
            d.load(d.serve)(settings, core) for d in served(settings) if d.serve is not None
        ]
        exposed = await expose(settings, core, platforms, ready)  # /healthz, /readyz, /metrics
        joined = asyncio.Event()  # a platform connected for the first time
        beat = asyncio.Event()  # a platform connected: record it now, not at the next beat
        links = [Link(p, stop, backoff or Backoff(), joined, beat) for p in platforms]
        connecting = [asyncio.create_task(k.run(), name=f"{k.platform.name} link") for k in links]
        for task in connecting:  # a link ends at a stop, or at a token rejected: stop serving
            task.add_done_callback(lambda _: stop.set())
        beats = asyncio.create_task(_heartbeats(core.quotes.conn, platforms, stop, beat))
        warming = asyncio.create_task(_warm_up(core, joined, stop), name="on-this warm-up")
        counts = asyncio.create_task(core.stats.flush_every(stop))  # the last: open_core's
        try:
            await _schedule(core, settings, links, joined, stop)
        finally:
            stop.set()
            warming.cancel()  # its thread ends at its next batch (quotes/meaning.py)
            ended = await asyncio.gather(*connecting, return_exceptions=True)
            await asyncio.gather(beats, warming, counts, return_exceptions=True)
            for link in reversed(links):
                await link.platform.close()
                if link.ever_connected:
                    log.info("%s: disconnected", link.platform.name)
            await exposed.aclose()
        for fatal in ended:
            if isinstance(fatal, ConfigError):
                raise fatal
    log.info("stopped cleanly")
    return 0


@dataclass(eq=False)
class Link:
    """Keeps one platform connected: retried with backoff while it cannot be reached, started
    again when its connection is lost for good. One log line per failed attempt."""

    platform: ChatPlatform
    stop: asyncio.Event
    backoff: Backoff
    joined: asyncio.Event  # set when it connects for the first time
    beat: asyncio.Event  # set each time it connects
    ever_connected: bool = False

    async def run(self) -> None:
        """Until a stop; a ConfigError (a rejected token: nothing to wait for) ends it."""
        failures = 0  # in a row; a connection that lasted `backoff.longest` clears them
        while not self.stop.is_set():
            try:
                if not await _unless_stopped(self.platform.start(), self.stop):
                    return
            except ConfigError:
                raise
            except Exception as exc:
                failures += 1
                await self._pause(failures, f"cannot connect (attempt {failures}: {one_line(exc)})")
                continue
            log.info("%s: connected and answering /lambert", self.platform.name)
            self.beat.set()
            if not self.ever_connected:
                self.ever_connected = True
                self.joined.set()
            since = asyncio.get_running_loop().time()
            try:
                if not await _unless_stopped(self.platform.wait_lost(), self.stop):
                    return
                why = "connection lost for good"
            except ConfigError:
                raise
            except Exception as exc:
                why = f"connection lost ({one_line(exc)})"
            lasted = asyncio.get_running_loop().time() - since
            failures = 1 if lasted >= self.backoff.longest else failures + 1
            await self._pause(failures, why)

    async def _pause(self, failures: int, why: str) -> None:
        wait = self.backoff.delay(failures)
        name = self.platform.name
        log.warning("%s: %s; trying again in %.1f s", name, why, wait)
        log.debug("%s: %s", name, why, exc_info=True)
        try:
            await self.platform.close()  # whatever the attempt had opened
        except Exception as exc:
            log.warning("%s: closing after a failure failed too (%s)", name, one_line(exc))
        await _first_of(self.stop, within=wait)


async def _warm_up(core: Core, joined: asyncio.Event, stop: asyncio.Event) -> None:
    """Build "Lambert on this"'s matcher once a platform is up (12-18 s with `meaning`)."""
    if not await _unless_stopped(joined.wait(), stop):
        return
    from bot.chat.on_this import matcher_for  # its model only with the extra, and only now

    try:
        matcher = await matcher_for(core.quotes)
    except Exception as exc:  # its first use tries again, and says so there
        log.warning('"Lambert on this" could not prepare its matcher: %s', one_line(exc))
        return
    log.info('"Lambert on this" is ready (%s)', matcher.name)


async def _first_of(
    *events: asyncio.Event, within: float | None = None, then: asyncio.Event | None = None
) -> None:
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        if then is not None:
            then.set()
    finally:
        for wait in waits:
            wait.cancel()


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> bool:
    """Await `work` unless `stop` comes first, which cancels it: True if `work` finished."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    if not task.cancelled():
        task.result()  # its failure, if it had one
    return not task.cancelled()


async def _schedule(
    core: Core,
    settings: Settings,
    links: Sequence[Link],
    joined: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """The daily scheduler over the platforms connected so far, started again (never two at
    once) each time another connects for the first time; a post for one not yet connected is
    left unclaimed until then (missed only past the catch-up window)."""
    while not stop.is_set():
        joined.clear()
        posters = {k.platform.name: k.platform.poster() for k in links if k.ever_connected}
        if not posters:
            await _first_of(stop, joined)
            continue
        until = asyncio.Event()  # stop, or another platform joined
        relay = asyncio.create_task(_first_of(stop, joined, then=until))
        catchup = timedelta(hours=settings.catchup_hours)
        scheduler = Scheduler(core.quotes, core.daily, posters, catchup=catchup)
        run = asyncio.create_task(scheduler.run(until))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.wait({run}, timeout=SHUTDOWN_GRACE)
        finally:
            relay.cancel()
            stopping.cancel()
            if not run.done():
                log.warning(
                    "%d daily post(s) still sending after %g s; stopping without them (the next "
                    "start reports their days as unknown)",
                    scheduler.posting,
                    SHUTDOWN_GRACE,
                )
                run.cancel()
                await asyncio.wait({run})
        if not run.cancelled():
            run.result()  # the loop's own failure, if it had one


async def _heartbeats(
    conn: aiosqlite.Connection,
    platforms: Sequence[ChatPlatform],
    stop: asyncio.Event,
    beat: asyncio.Event,
) -> None:
    """A heartbeat for each platform connected now; a lost one's ages until health says so."""
    while not stop.is_set():
        beat.clear()
        try:
            await record_heartbeats(conn, [p.name for p in platforms if is_connected(p)])
        except aiosqlite.Error:
            log.warning("could not record the health heartbeat; will retry", exc_info=True)
        await _first_of(stop, beat, within=HEARTBEAT_SECONDS)
