"""The listener of `lambert web`: the site (bot/web) alone, no tokens, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from bot.adapters.listening import Limits, listen
from bot.config import Settings
from bot.runtime import open_core
from bot.web.app import CLIENT_MAX_SIZE, LIMITS, create_app
from bot.web.site import Site

# Every listener's bounds (bot/adapters/listening.py), with the site's own smaller requests.
SITE_LIMITS = Limits(
    max_body=CLIENT_MAX_SIZE, max_line=LIMITS["max_line_size"], max_headers=LIMITS["max_headers"]
)


async def serve_site(settings: Settings, host: str, port: int) -> int:
    """Serve on host:port (0: any free port), print the address, return 0 once stopped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread / Windows
            loop.add_signal_handler(sig, stop.set)
    async with open_core(settings) as core:
        site = Site(core.quotes, settings.public_url)
        # A taken port or a foreign address: a one-line ConfigError naming the options.
        runner, bound = await listen(
            create_app(site), host, port, ("--host", "--port"), SITE_LIMITS
        )
        try:
            shown = f"[{host}]" if ":" in host else host
            sys.stdout.write(f"lambert web: serving http://{shown}:{bound}/ (Ctrl-C stops)\n")
            sys.stdout.flush()
            await stop.wait()
        finally:
            await runner.cleanup()
    return 0
