"""`lambert serve`'s operators' listener: /healthz, /readyz, /metrics and the web site."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.adapters.listening import LIMITS, Limits
from bot.adapters.listening import listen as listen_on
from bot.quotes.service import QuoteService
from bot.serving.probes import Answer, Probes
from bot.web.app import add_routes
from bot.web.site import Site


def _response(answer: Answer) -> web.Response:
    # Set as a header, not content_type=: aiohttp would rewrite the parameters Prometheus reads.
    headers = {"Content-Type": answer.content_type, "Cache-Control": "no-store"}
    return web.Response(status=answer.status, body=answer.body, headers=headers)


def probe_app(probes: Probes) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return _response(probes.healthz())

    async def readyz(request: web.Request) -> web.Response:
        return _response(await probes.readyz())

    async def metrics(request: web.Request) -> web.Response:
        return _response(probes.metrics_text(request.headers.get("Accept", "")))

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def listen(
    probes: Probes,
    host: str,
    port: int,
    quotes: QuoteService | None = None,
    public_url: str | None = None,
    limits: Limits = LIMITS,
) -> Callable[[], Awaitable[None]]:
    """Serve the probes (and the web site, given `quotes`); returns what stops it."""
    app = probe_app(probes)
    if quotes is not None:
        add_routes(app, Site(quotes, public_url))  # after the probes: its catch-all comes last
    variables = ("LAMBERT_HTTP_HOST", "LAMBERT_HTTP_PORT")
    return (await listen_on(app, host, port, variables, limits))[0].cleanup
