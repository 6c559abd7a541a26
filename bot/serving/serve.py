"""`lambert serve`: start the configured platforms, then the one daily scheduler, until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import timedelta

import aiosqlite

from bot.config import Settings
from bot.daily.scheduler import Scheduler
from bot.platforms import served
from bot.ports import ChatPlatform
from bot.runtime import Core, open_core
from bot.serving.health import HEARTBEAT_SECONDS, record_heartbeats

log = logging.getLogger(__name__)

PlatformFactory = Callable[[Settings, Core], ChatPlatform]

# After a stop, daily posts still sending get this long; a post that hangs must not keep the
# process (and every platform's connection) up for ever.
SHUTDOWN_GRACE = 30.0


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Serve until SIGTERM/SIGINT (or `stop`); in-flight commands and posts finish first
    (posts within SHUTDOWN_GRACE)."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    async with open_core(settings, integrity_check=True) as core:
        started: list[ChatPlatform] = []
        try:
            for declared in served(settings):
                assert declared.serve is not None  # served() keeps only those
                factory: PlatformFactory = declared.load(declared.serve)
                platform = factory(settings, core)
                await platform.start()
                started.append(platform)
                log.info("%s: connected and answering /lambert", platform.name)
            scheduler = Scheduler(
                core.quotes,
                core.daily,
                {p.name: p.poster() for p in started},
                catchup=timedelta(hours=settings.catchup_hours),
            )
            beats = asyncio.create_task(
                _heartbeats(core.quotes.store.conn, [p.name for p in started], stop)
            )
            # Started once, here, after every platform is ready: a reconnect never starts
            # a second loop, because platforms never start it themselves.
            await _run_until_stopped(scheduler, stop)
            await beats
        finally:
            for platform in reversed(started):
                await platform.close()
                log.info("%s: disconnected", platform.name)
    log.info("stopped cleanly")
    return 0


async def _run_until_stopped(scheduler: Scheduler, stop: asyncio.Event) -> None:
    """The scheduler's loop until `stop`, then at most SHUTDOWN_GRACE for its posts to end."""
    run = asyncio.create_task(scheduler.run(stop))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.wait({run}, timeout=SHUTDOWN_GRACE)
    finally:
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


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread / Windows
            loop.add_signal_handler(sig, stop.set)


async def _heartbeats(
    conn: aiosqlite.Connection, names: Sequence[str], stop: asyncio.Event
) -> None:
    """Tell `lambert health` (another process) that this one is alive and connected."""
    while not stop.is_set():
        try:
            await record_heartbeats(conn, names)
        except aiosqlite.Error:
            log.warning("could not record the health heartbeat; will retry", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
