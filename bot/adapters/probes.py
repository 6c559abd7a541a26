"""The web listeners: `lambert serve`'s probes beside the site, and `lambert web`'s site alone."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.adapters.listening import LIMITS, Limits
from bot.adapters.listening import listen as listen_on
from bot.config import Settings
from bot.quotes.service import QuoteService
from bot.runtime import open_core
from bot.serving.probes import Probes
from bot.serving.serve import on_signals
from bot.web.app import CLIENT_MAX_SIZE, add_routes, create_app
from bot.web.app import LIMITS as WEB_LIMITS
from bot.web.site import Site

# Every listener's bounds, with the site's own smaller requests.
SITE_LIMITS = Limits(
    max_body=CLIENT_MAX_SIZE,
    max_line=WEB_LIMITS["max_line_size"],
    max_headers=WEB_LIMITS["max_headers"],
)


async def listen(
    probes: Probes,
    host: str,
    port: int,
    quotes: QuoteService | None = None,
    public_url: str | None = None,
    limits: Limits = LIMITS,
) -> Callable[[], Awaitable[None]]:
    """Serve the probes (and the web site, given `quotes`); returns what stops it."""

    async def answer(request: web.Request) -> web.Response:
        got = await probes.answer(request.path, request.headers.get("Accept", ""))
        # Set as a header, not content_type=: aiohttp would rewrite the parameters Prometheus reads.
        headers = {"Content-Type": got.content_type, "Cache-Control": "no-store"}
        return web.Response(status=got.status, body=got.body, headers=headers)

    app = web.Application()
    for path in ("/healthz", "/readyz", "/metrics"):
        app.router.add_get(path, answer)
    if quotes is not None:
        add_routes(app, Site(quotes, public_url))  # after the probes: its catch-all comes last
    variables = ("LAMBERT_HTTP_HOST", "LAMBERT_HTTP_PORT")
    return (await listen_on(app, host, port, variables, limits))[0].cleanup


async def serve_site(settings: Settings, host: str, port: int) -> int:
    """Serve on host:port (0: any free port), print the address, return 0 once stopped."""
    stop = on_signals(asyncio.Event())
    async with open_core(settings) as core:
        site = Site(core.quotes, settings.public_url)
        # A taken port or a foreign address: a one-line ConfigError naming the options.
        runner, bound = await listen_on(
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
