"""The operators' HTTP listener of `lambert serve` (LAMBERT_HTTP_HOST:LAMBERT_HTTP_PORT):
/healthz, /readyz and /metrics, answered by bot/serving/probes.py."""

from __future__ import annotations

import errno
import os
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import ConfigError
from bot.serving.oneline import one_line
from bot.serving.probes import Answer, Probes


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


async def listen(probes: Probes, host: str, port: int) -> Callable[[], Awaitable[None]]:
    """Serve the probes on host:port; returns what stops it. ConfigError naming the variables
    when the address cannot be had."""
    runner = web.AppRunner(probe_app(probes), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"LAMBERT_HTTP_PORT={port}: port {port} on {host} is already in use; stop "
                "what holds it or choose another LAMBERT_HTTP_PORT"
            ) from None
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else one_line(exc)
        raise ConfigError(
            f"LAMBERT_HTTP_HOST={host}, LAMBERT_HTTP_PORT={port}: cannot listen there "
            f"({reason}); use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0"
        ) from None
    return runner.cleanup
