"""Every aiohttp listener lambert runs, bounded: connections, sizes, times, and refusal logs."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot.config import ConfigError
from bot.logs import OneLine, one_line

log = logging.getLogger(__name__)
# aiohttp logs each malformed request here (with a traceback): the filter below cuts it.
REFUSALS = logging.getLogger("lambert.http")
ACCEPT_ERROR = "socket.accept() out of system resource"  # asyncio's words for EMFILE & co.


@dataclass(frozen=True, slots=True)
class Limits:
    """What one listener holds, whoever connects (docs/security.md). A connection without a
    whole request head this long after it opened, or idle this long, is closed: slowloris and
    idle floods cost nothing."""

    idle_seconds: float = 15.0
    body_seconds: float = 15.0  # to receive a request's body once its head is in
    # Within a quarter of the file limit, backlog included (asyncio accepts those unseen).
    max_connections: int = 256
    max_body: int = 1024**2  # bytes; aiohttp's own client_max_size, enforced by read()
    max_line: int = 8190  # bytes of the request line or one header line (aiohttp's default)
    max_headers: int = 100


LIMITS = Limits()


@dataclass
class Ration:
    """One event of each kind every `every` seconds: a flood costs a few log lines a minute."""

    every: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)

    def allow(self, kind: str = "") -> str | None:
        """None: hold this one back; else what its line adds (how many were held back)."""
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.every:
            self._held[kind] = self._held.get(kind, 0) + 1
            return None
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        return f" (and {held} more in the last {self.every:g} s)" if held else ""


class OncePerMinute(Ration):
    """A log filter: one record a minute, one line; aiohttp logs each bad request in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        note = self.allow()
        if note is None:
            return False
        OneLine().filter(record)
        record.msg += note
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


REFUSAL_LINES = OncePerMinute()
REFUSALS.addFilter(REFUSAL_LINES)


class _Refuse(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


@dataclass(eq=False)
class Gate:
    """Over the cap, an idle connection makes room; too big (413) or slow (408) bodies refused."""

    limits: Limits
    busy: set[RequestHandler] = field(default_factory=set)  # a request in hand

    def __post_init__(self) -> None:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        most = self.limits.max_connections
        share = most * 2 if soft == resource.RLIM_INFINITY else soft // 4
        self.backlog = max(1, min(128, share // 2))
        self.cap = max(1, min(most, share - self.backlog))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        protocol, limits = request.protocol, self.limits
        self.busy.add(protocol)
        try:
            length = request.content_length
            if length is not None and length > limits.max_body:
                raise web.HTTPRequestEntityTooLarge(limits.max_body, length)
            if request.body_exists:
                try:
                    async with asyncio.timeout(limits.body_seconds):
                        await request.read()  # cached: the handler's read() gets it at once
                except TimeoutError:
                    REFUSALS.warning("closed a connection whose body did not arrive in time")
                    response = web.Response(status=408, text="request body too slow\n")
                    response.force_close()
                    return response
            return await handler(request)  # type: ignore[no-any-return]
        finally:
            self.busy.discard(protocol)

    def admit(self, server: web.Server) -> Any:
        live = [h for h in server.connections if h.transport is not None]
        if len(live) >= self.cap:
            idle = next((h for h in live if h not in self.busy), None)
            if idle is None:
                REFUSALS.warning("refused a connection: all %d are busy", self.cap)
                return _Refuse()
            REFUSALS.warning(
                "closed an idle connection to admit another: %d is the cap (a reverse proxy "
                "in front holds more)",
                self.cap,
            )
            idle.force_close()
        return server()


class BoundedSite(web.TCPSite):
    """aiohttp's TCPSite, admitting through the Gate."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, gate: Gate) -> None:
        super().__init__(runner, host, port, backlog=gate.backlog)
        self.gate = gate

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self.gate.admit(server), self._host, self._port, backlog=self._backlog
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]


async def listen(
    app: web.Application, host: str, port: int, variables: tuple[str, str], limits: Limits = LIMITS
) -> tuple[web.AppRunner, int]:
    """Serve `app` within `limits`: the runner and the port; ConfigError naming `variables`."""
    host_variable, port_variable = variables
    gate = Gate(limits)
    app.middlewares.insert(0, gate.middleware)  # ahead of every other
    app_runner = web.AppRunner(
        app,
        access_log=None,
        keepalive_timeout=limits.idle_seconds,
        lingering_time=limits.body_seconds,  # reading what is left of a refused body
        max_line_size=limits.max_line,
        max_field_size=limits.max_line,
        max_headers=limits.max_headers,
        logger=REFUSALS,
    )
    await app_runner.setup()
    loop = asyncio.get_running_loop()
    if not isinstance(handler := loop.get_exception_handler(), AcceptErrors):  # once per loop
        loop.set_exception_handler(AcceptErrors(handler))  # the old handler gets the rest
    try:
        await BoundedSite(app_runner, host, port, gate).start()
    except OSError as exc:
        await app_runner.cleanup()
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
    return app_runner, int(app_runner.addresses[0][1])


@dataclass
class AcceptErrors:
    """Failed accepts (out of files) once a minute with the fix, not a traceback each."""

    previous: Any
    ration: Ration = field(default_factory=Ration)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_ERROR:
            (self.previous or type(loop).default_exception_handler)(loop, context)
        elif self.ration.allow() is not None:
            number = getattr(context.get("exception"), "errno", 0) or 0
            log.error(
                "cannot accept connections (%s: too many open files): raise the file limit "
                "(LimitNOFILE= in systemd, ulimit -n) or put a reverse proxy in front",
                errno.errorcode.get(number, "out of resources"),
            )
