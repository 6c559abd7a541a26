"""What `lambert serve` answers on LAMBERT_HTTP_PORT: /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from bot.config import Settings
from bot.logs import one_line
from bot.metrics import Metrics, reporting_to
from bot.ports import ChatPlatform
from bot.runtime import Core
from bot.serving.health import is_connected, shard_states

log = logging.getLogger(__name__)

# An adapter, reached by module path (aiohttp is a platform library); the web site beside it.
LISTENER = "bot.adapters.probes:listen"
JSON = "application/json"


# Seconds: answers take a few ms (an FTS5 query); a Slack admin check's lookup up to a second.
ANSWER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# A daily post goes out within seconds, or up to LAMBERT_CATCHUP_HOURS late (a platform down).
LAG_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class PrometheusMetrics(Metrics, Collector):
    """The metrics port on prometheus-client, plus each platform's (and shard's) connection,
    read at every scrape (`collect`)."""

    def __init__(self, platforms: Sequence[ChatPlatform] = ()) -> None:
        self.platforms = platforms
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "lambert_commands",
            "Commands answered, by platform, verb and outcome.",
            ["platform", "verb", "outcome"],
            registry=self.registry,
        )
        self.answer_seconds = Histogram(
            "lambert_answer_seconds",
            "Time from a command reaching the grammar to its reply, by platform.",
            ["platform"],
            buckets=ANSWER_BUCKETS,
            registry=self.registry,
        )
        self.daily_posts = Counter(
            "lambert_daily_posts",
            "Daily post attempts by outcome: posted, retrying, failed, unknown, missed.",
            ["outcome"],
            registry=self.registry,
        )
        self.daily_lag = Histogram(
            "lambert_daily_post_lag_seconds",
            "Time from a daily post's due instant to the platform taking it.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.store_seconds = Histogram(
            "lambert_database_seconds",
            "Daily-state store calls by backend (sqlite, postgresql) and operation.",
            ["backend", "operation"],
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(self)

    def command(self, platform: str, verb: str, outcome: str, started: float) -> None:
        self.commands.labels(platform, verb, outcome).inc()
        self.answer_seconds.labels(platform).observe(time.perf_counter() - started)

    def daily_post(
        self, outcome: str, due: datetime | None = None, at: datetime | None = None
    ) -> None:
        self.daily_posts.labels(outcome).inc()
        if due is not None and at is not None:
            self.daily_lag.observe(max((at - due).total_seconds(), 0.0))

    def store_call(self, backend: str, operation: str, seconds: float) -> None:
        self.store_seconds.labels(backend, operation).observe(seconds)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """Every metric and its content type, in the format the Accept header asks for."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def collect(self) -> Iterable[Metric]:
        """1 or 0 per platform (and shard), as /readyz and the heartbeats see it."""
        platforms = GaugeMetricFamily(
            "lambert_platform_connected",
            "1 while the platform (every shard of it) is connected, else 0.",
            labels=["platform"],
        )
        shards = GaugeMetricFamily(
            "lambert_shard_connected",
            "1 while the shard is connected, else 0 (platforms that run shards).",
            labels=["platform", "shard"],
        )
        for platform in self.platforms:
            platforms.add_metric([platform.name], float(is_connected(platform)))
            for shard, up in sorted(shard_states(platform).items()):
                shards.add_metric([platform.name, str(shard)], float(up))
        return [platforms, shards]


@dataclass(frozen=True)
class ReadyTiming:
    """One database answer serves /readyz for `cache` s (scrapes never pile queries on a slow
    database); none within `timeout` s is unreachable."""

    cache: float = 5.0
    timeout: float = 2.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: str


@dataclass(eq=False)
class Probes:
    """The answers, apart from HTTP. Ready: the database answers a cheap query, and every
    platform (every shard) is connected as the heartbeats mean it."""

    database: Callable[[], Awaitable[object]]
    platforms: Sequence[ChatPlatform]
    metrics: PrometheusMetrics
    timing: ReadyTiming = ReadyTiming()
    clock: Callable[[], float] = time.monotonic
    _checked: tuple[float, str | None] | None = field(default=None, init=False)  # when, what
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def answer(self, path: str, accept: str = "") -> Answer:
        """/readyz, /metrics (in the format `accept` asks for), else /healthz."""
        if path == "/readyz":
            return await self.readyz()
        if path == "/metrics":
            return Answer(200, *self.metrics.exposition(accept))
        return Answer(200, b"ok\n", "text/plain; charset=utf-8")

    async def readyz(self) -> Answer:
        problems = await self.not_ready()
        body = {"ready": False, "not_ready": problems} if problems else {"ready": True}
        return Answer(503 if problems else 200, json.dumps(body).encode() + b"\n", JSON)

    async def not_ready(self) -> dict[str, str]:
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
    """Given LAMBERT_HTTP_PORT: metrics to Prometheus and the probes' listener, until the stack
    closes. ConfigError when the address cannot be used."""
    host, port = settings.http_host, settings.http_port
    if port is None:
        return contextlib.AsyncExitStack()
    async with contextlib.AsyncExitStack() as stack:  # closed here only if this fails
        metrics = PrometheusMetrics(platforms)
        stack.enter_context(reporting_to(metrics))
        # A cheap indexed lookup reaches the daily state's database, whichever backend.
        store = core.daily.store
        probes = Probes(lambda: store.schedule("", ""), platforms, metrics, timing or ReadyTiming())
        listen = pkgutil.resolve_name(LISTENER)
        close = await listen(probes, host, port, core.quotes, settings.public_url)
        stack.push_async_callback(close)
        log.info(
            "probes and the web site on http://%s:%d (/healthz, /readyz, /metrics, /)", host, port
        )
        return stack.pop_all()
