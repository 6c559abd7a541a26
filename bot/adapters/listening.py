"""Listening on a configured address with aiohttp: a taken port or a foreign address is a
one-line ConfigError naming the variables, for every server lambert runs (Slack HTTP, probes)."""

from __future__ import annotations

import errno
import os

from aiohttp import web

from bot.config import ConfigError
from bot.serving.oneline import one_line


async def listen(runner: web.AppRunner, host: str, port: int, variables: tuple[str, str]) -> int:
    """Serve `runner` on host:port and return the port bound; `variables` name the host and
    port settings, e.g. ("LAMBERT_SLACK_HOST", "LAMBERT_SLACK_PORT")."""
    host_variable, port_variable = variables
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"{port_variable}={port}: port {port} on {host} is already in use; stop "
                f"what holds it or choose another {port_variable}"
            ) from None
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else one_line(exc)
        raise ConfigError(
            f"{host_variable}={host}, {port_variable}={port}: cannot listen there "
            f"({reason}); use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0"
        ) from None
    return int(runner.addresses[0][1])
