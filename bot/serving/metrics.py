"""Prometheus instruments behind the core's metrics port, in a registry of their own."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from bot.metrics import Metrics
from bot.ports import ChatPlatform
from bot.serving.health import is_connected, shard_states

# Seconds. Answers are mostly a few milliseconds (in-memory themes, an FTS5 query); a Slack
# user-info lookup for an admin check can take a second.
ANSWER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# A daily post goes out within seconds of its minute, unless a platform was down or the
# process started late (up to LAMBERT_CATCHUP_HOURS, 24 at most).
LAG_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class PrometheusMetrics(Metrics):
    """The metrics port filled with prometheus-client instruments, plus a live gauge of each
    platform's (and shard's) connection, read at every scrape."""

    def __init__(self, platforms: Sequence[ChatPlatform] = ()) -> None:
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
        self.registry.register(Connections(platforms))

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
        """Every metric and the content type, in the text format the scraper's Accept header
        asks for (0.0.4 by default, which every Prometheus reads)."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


class Connections(Collector):
    """`lambert_platform_connected{platform}` and, for a platform with shards,
    `lambert_shard_connected{platform,shard}`: 1 or 0, as /readyz and the heartbeats see it."""

    def __init__(self, platforms: Sequence[ChatPlatform]) -> None:
        self.platforms = platforms

    def collect(self) -> Iterable[Metric]:
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
