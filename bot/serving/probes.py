"""What `lambert serve` answers on LAMBERT_HTTP_PORT: /healthz, /readyz and /metrics. The
listener (and the web site beside them) is an adapter, reached by module path: aiohttp is a
platform library."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.config import Settings
from bot.metrics import reporting_to
from bot.ports import ChatPlatform
from bot.runtime import Core
from bot.serving.health import is_connected, shard_states
from bot.serving.metrics import PrometheusMetrics
from bot.serving.oneline import one_line

log = logging.getLogger(__name__)

LISTENER = "bot.adapters.probes:listen"
JSON = "application/json"


@dataclass(frozen=True)
class ReadyTiming:
    """How /readyz asks the database: one answer serves every probe for `cache` seconds (so
    scrapes never pile queries on a slow database), and no answer within `timeout` seconds
    counts as unreachable. Tests shorten both."""

    cache: float = 5.0
    timeout: float = 2.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: str


@dataclass(eq=False)
class Probes:
    """The answers, independent of HTTP. Ready: the database answers a cheap query through
    the store, and every configured platform (every shard of it) is connected, by the same
    definition the heartbeats for `lambert health` use."""

    database: Callable[[], Awaitable[object]]
    platforms: Sequence[ChatPlatform]
    metrics: PrometheusMetrics
    timing: ReadyTiming = ReadyTiming()
    clock: Callable[[], float] = time.monotonic
    _checked: tuple[float, str | None] | None = field(default=None, init=False)  # when, what
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def healthz(self) -> Answer:
        return Answer(200, b"ok\n", "text/plain; charset=utf-8")

    async def readyz(self) -> Answer:
        problems = await self.not_ready()
        body = {"ready": False, "not_ready": problems} if problems else {"ready": True}
        return Answer(503 if problems else 200, json.dumps(body).encode() + b"\n", JSON)

    def metrics_text(self, accept: str = "") -> Answer:
        return Answer(200, *self.metrics.exposition(accept))

    async def not_ready(self) -> dict[str, str]:
        """What is not ready, each with a short reason; empty when all is."""
        database = await self._database_problem()
        problems = {} if database is None else {"database": database}
        for platform in (p for p in self.platforms if not is_connected(p)):
            down = ", ".join(str(s) for s, up in sorted(shard_states(platform).items()) if not up)
            problems[platform.name] = (
                f"shards not connected: {down}" if down and platform.connected else "not connected"
            )
        return problems

    async def _database_problem(self) -> str | None:
        async with self._lock:  # probes arriving together share one query
            if self._checked is not None and self.clock() - self._checked[0] < self.timing.cache:
                return self._checked[1]
            problem = None
            try:
                async with asyncio.timeout(self.timing.timeout):
                    await self.database()
            except TimeoutError:
                problem = f"no answer within {self.timing.timeout:g} s"
            except Exception as exc:  # whatever the backend raises: the database is not usable
                problem = f"unreachable ({type(exc).__name__})"
                log.debug("readiness: database check failed: %s", one_line(exc))
            self._checked = (self.clock(), problem)
            return problem


async def expose(
    settings: Settings,
    core: Core,
    platforms: Sequence[ChatPlatform],
    timing: ReadyTiming | None = None,
) -> contextlib.AsyncExitStack:
    """With LAMBERT_HTTP_PORT set: report metrics to Prometheus instruments and listen for
    probes, until the returned stack is closed. ConfigError when the address cannot be used."""
    stack = contextlib.AsyncExitStack()
    if settings.http_port is None:
        return stack
    try:
        metrics = PrometheusMetrics(platforms)
        stack.enter_context(reporting_to(metrics))
        # A cheap indexed lookup through the store reaches the daily state's database,
        # whichever backend that is.
        store = core.daily.store
        probes = Probes(lambda: store.schedule("", ""), platforms, metrics, timing or ReadyTiming())
        listen = pkgutil.resolve_name(LISTENER)
        host, port = settings.http_host, settings.http_port
        stack.push_async_callback(
            await listen(probes, host, port, core.quotes, settings.public_url)
        )
    except BaseException:
        await stack.aclose()
        raise
    log.info(
        "probes and the web site on http://%s:%d (/healthz, /readyz, /metrics, /)",
        settings.http_host,
        settings.http_port,
    )
    return stack
