"""/metrics: Prometheus' own parser reads it, and the counters move with commands, daily
posts and store calls; recording is a no-op until serve installs the instruments."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import aiohttp
import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.chat.context import RequestContext
from bot.chat.grammar import another, answer, perform
from bot.chat.replies import TextReply
from bot.config import load_settings
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import Schedule
from bot.metrics import Metrics, metrics, reporting_to
from bot.ports import PermanentPostError, TransientPostError
from bot.runtime import Core
from bot.serving import serve as serving
from bot.serving.probes import PrometheusMetrics
from tests.fakes.daily import PATIENCE, FakeClock, RecordingPoster
from tests.shim.fakes import RemoteDiscord
from tests.support.health import ShardedPlatform, until_ready_is
from tests.support.paths import CORPUS
from tests.support.postgres import free_port
from tests.support.serving import due_now, until

Labels = frozenset[tuple[str, str]]


def samples(text: str) -> dict[tuple[str, Labels], float]:
    """Every sample of an exposition, read by prometheus-client's own parser."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def recorded() -> Iterator[PrometheusMetrics]:
    with reporting_to(PrometheusMetrics()) as installed:
        assert isinstance(installed, PrometheusMetrics)
        yield installed


def scrape(instruments: PrometheusMetrics) -> str:
    body, content_type = instruments.exposition()
    assert content_type.startswith("text/plain; version=0.0.4")
    return body.decode()


def test_nothing_is_recorded_until_instruments_are_installed() -> None:
    assert type(metrics()) is Metrics  # the no-op default
    with reporting_to(PrometheusMetrics()) as installed:
        assert metrics() is installed
    assert type(metrics()) is Metrics


def test_the_instruments_have_a_registry_of_their_own() -> None:
    PrometheusMetrics().command("slack", "help", "text", 0.0)
    assert "lambert_commands" not in prometheus_client.generate_latest().decode()


SLACK = RequestContext(platform="slack", channel="C1", space="T1", user="U1")


async def test_commands_count_by_platform_verb_and_outcome(
    core: Core, recorded: PrometheusMetrics
) -> None:
    await answer(core, "dpo", SLACK)
    await answer(core, "dpo", SLACK)
    await answer(core, "help", RequestContext(platform="discord"))
    await answer(core, "stats", SLACK)  # admins only
    await perform("themes", SLACK, lambda: _text("themes"))
    first = await answer(core, "reward hacking", SLACK)
    await another(core, "reward hacking", first.quote.id, SLACK)

    text = scrape(recorded)
    assert (
        value(text, "lambert_commands_total", platform="slack", verb="theme", outcome="quote") == 2
    )
    assert (
        value(text, "lambert_commands_total", platform="discord", verb="help", outcome="text") == 1
    )
    assert (
        value(text, "lambert_commands_total", platform="slack", verb="stats", outcome="refused")
        == 1
    )
    assert (
        value(text, "lambert_commands_total", platform="slack", verb="themes", outcome="text") == 1
    )
    assert (
        value(text, "lambert_commands_total", platform="slack", verb="lookup", outcome="quote") == 1
    )
    assert (
        value(text, "lambert_commands_total", platform="slack", verb="another", outcome="quote")
        == 1
    )
    assert value(text, "lambert_answer_seconds_count", platform="slack") == 6
    assert value(text, "lambert_answer_seconds_count", platform="discord") == 1
    assert value(text, "lambert_answer_seconds_bucket", platform="slack", le="+Inf") == 6


async def _text(line: str) -> TextReply:
    return TextReply(line)


async def test_daily_posts_count_by_outcome_with_the_lag_from_due_to_posted(
    core: Core, recorded: PrometheusMetrics
) -> None:
    clock = FakeClock(datetime(2025, 3, 10, 8, 1, 30, tzinfo=UTC))  # 90 s late
    poster = RecordingPoster("console", clock)
    poster.failures["busy"] = [TransientPostError("rate limited")]
    poster.failures["gone"] = [PermanentPostError("channel deleted")]
    for channel in ("general", "busy", "gone"):
        schedule = Schedule(
            "console", channel, time(9), "Europe/Berlin", None, True, "test",
            datetime(2025, 3, 10, 6, 0, tzinfo=UTC),
        )  # fmt: skip
        await core.daily.store.save_schedules([schedule])
    daily = core.daily.with_clock(clock)
    before = scrape(recorded)
    await Scheduler(core.quotes, daily, {"console": poster}).tick()

    text = scrape(recorded)
    assert value(before, "lambert_daily_posts_total", outcome="posted") == 0
    assert value(text, "lambert_daily_posts_total", outcome="posted") == 1
    assert value(text, "lambert_daily_posts_total", outcome="retrying") == 1
    assert value(text, "lambert_daily_posts_total", outcome="failed") == 1
    assert value(text, "lambert_daily_post_lag_seconds_count") == 1
    assert value(text, "lambert_daily_post_lag_seconds_sum") == 90.0
    assert value(text, "lambert_daily_post_lag_seconds_bucket", le="60.0") == 0
    assert value(text, "lambert_daily_post_lag_seconds_bucket", le="300.0") == 1

    # A day later, past the catch-up window: both channels still on miss their day, and the
    # one still retrying yesterday's gives it up.
    clock.advance_to(datetime(2025, 3, 11, 16, 0, tzinfo=UTC))
    await Scheduler(core.quotes, daily, {"console": poster}).tick()
    text = scrape(recorded)
    assert value(text, "lambert_daily_posts_total", outcome="missed") == 2
    assert value(text, "lambert_daily_posts_total", outcome="failed") == 2
    assert value(text, "lambert_daily_posts_total", outcome="posted") == 1


async def test_store_calls_are_timed_by_backend_and_operation(
    core: Core, recorded: PrometheusMetrics
) -> None:
    """open_core times every store call: nothing is swapped in when /metrics is served."""
    store = core.daily.store
    await store.schedules()
    await store.schedules()
    await store.schedule("console", "general")
    text = scrape(recorded)
    seconds = "lambert_database_seconds_count"
    assert value(text, seconds, backend="sqlite", operation="schedules") == 2
    assert value(text, seconds, backend="sqlite", operation="schedule") == 1


def test_connected_gauges_per_platform_and_shard() -> None:
    discord = ShardedPlatform("discord", shard_states={0: True, 1: False})
    slack = ShardedPlatform("slack")
    text = scrape(PrometheusMetrics([discord, slack]))
    assert value(text, "lambert_platform_connected", platform="discord") == 0
    assert value(text, "lambert_platform_connected", platform="slack") == 1
    assert value(text, "lambert_shard_connected", platform="discord", shard="0") == 1
    assert ("lambert_shard_connected", frozenset({("platform", "discord"), ("shard", "1")})) in (
        samples(text)
    )
    discord.shard_states[1] = True
    assert value(scrape(PrometheusMetrics([discord])), "lambert_platform_connected",
                 platform="discord") == 1  # fmt: skip


@pytest.mark.slow
async def test_serve_metrics_move_after_a_command_and_a_daily_post(
    discord_fake: RemoteDiscord, db_path: Path
) -> None:
    port = free_port()
    settings = load_settings(
        {"DISCORD_TOKEN": "fake-token", "LAMBERT_HTTP_PORT": str(port)},
        db_path=db_path,
        corpus_path=CORPUS,
    )
    channel = str(discord_fake.channel_id)
    await due_now(settings, ("discord", channel))
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop))
    try:
        await until(lambda: discord_fake.posts, "the daily post", task)
        await until_ready_is(port, 200, task)
        # Discord holds the post before lambert has its answer and records the outcome.
        before = await _metrics_once(port, "lambert_daily_posts_total", outcome="posted")
        await discord_fake.interact(discord_fake.slash_command("lambert", {"query": "dpo"}))
        await discord_fake.next_callback()
        after = await _metrics(port)
    finally:
        stop.set()
    assert await asyncio.wait_for(task, 15) == 0

    command = {"platform": "discord", "verb": "theme", "outcome": "quote"}
    assert value(before, "lambert_commands_total", **command) == 0
    assert value(after, "lambert_commands_total", **command) == 1
    assert value(after, "lambert_answer_seconds_count", platform="discord") == 1
    assert value(after, "lambert_daily_posts_total", outcome="posted") == 1
    assert value(after, "lambert_daily_post_lag_seconds_count") == 1
    assert value(after, "lambert_platform_connected", platform="discord") == 1
    calls = "lambert_database_seconds_count"
    assert value(after, calls, backend="sqlite", operation="claim") == 1
    assert value(after, calls, backend="sqlite", operation="record") == 1


async def _metrics_once(port: int, name: str, **labels: str) -> str:
    """The metrics, once `name` with `labels` has been counted."""
    async with asyncio.timeout(PATIENCE):
        while True:
            text = await _metrics(port)
            if value(text, name, **labels):
                return text
            await asyncio.sleep(0.01)


async def _metrics(port: int) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return await response.text()
