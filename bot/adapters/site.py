"""The listener of `lambert web`: the site (bot/web) alone, no tokens, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from aiohttp import web

from bot.adapters.listening import listen
from bot.config import Settings
from bot.runtime import open_core
from bot.web.app import LIMITS, create_app
from bot.web.site import Site


async def serve_site(settings: Settings, host: str, port: int) -> int:
    """Serve on host:port (0: any free port), print the address, return 0 once stopped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread / Windows
            loop.add_signal_handler(sig, stop.set)
    async with open_core(settings) as core:
        site = Site(core.quotes, settings.public_url)
        runner = web.AppRunner(create_app(site), access_log=None, **LIMITS)
        # A taken port or a foreign address: a one-line ConfigError naming the options.
        bound = await listen(runner, host, port, ("--host", "--port"))
        try:
            shown = f"[{host}]" if ":" in host else host
            sys.stdout.write(f"lambert web: serving http://{shown}:{bound}/ (Ctrl-C stops)\n")
            sys.stdout.flush()
            await stop.wait()
        finally:
            await runner.cleanup()
    return 0
