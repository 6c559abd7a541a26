"""/healthz, /readyz and /metrics of `lambert serve`: readiness follows the platforms and the
database both ways, and `lambert health` says the same in the same states."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.cli.ops import health_command
from bot.config import ConfigError, Settings, load_settings
from bot.serving import serve as serving
from bot.serving.health import STALE_AFTER_SECONDS, is_connected
from bot.serving.probes import Probes, PrometheusMetrics, ReadyTiming
from tests.fakes.slack_platform import APP_TOKEN, BOT_TOKEN
from tests.shim.fakes import RemoteDiscord
from tests.support.health import (
    BEAT,
    SLOW,
    Platform,
    ShardedPlatform,
    age,
    beats_of,
    get,
    heartbeat,
    ready,
    until_ready_is,
)
from tests.support.paths import CORPUS
from tests.support.postgres import Cluster, free_port, server_binaries
from tests.support.serving import until

QUICK = ReadyTiming(cache=0.05, timeout=2.0)  # production: 5 s of cache


def probe_settings(db_path: Path, port: int, **env: str) -> Settings:
    return load_settings(
        {"LAMBERT_HTTP_PORT": str(port), **env}, db_path=db_path, corpus_path=CORPUS
    )


async def health(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = await health_command(argparse.Namespace(json=False), settings)
    return code, capsys.readouterr().out


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.mark.slow
async def test_readyz_follows_a_platform_away_and_back_and_health_agrees(
    discord_fake: RemoteDiscord,
    db_path: Path,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(serving, "HEARTBEAT_SECONDS", BEAT)
    settings = probe_settings(db_path, port, DISCORD_TOKEN="fake-token")
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop, backoff=SLOW, ready=QUICK))
    try:
        # Listening before any platform connects: alive, not ready.
        await until(lambda: heartbeat(db_path, "discord") or None, "a heartbeat", task)
        assert await get(port, "/healthz") == (200, "ok\n")
        assert await until_ready_is(port, 200, task) == {"ready": True}
        assert (await health(settings, capsys))[0] == 0

        # Gone, and every attempt to come back is refused.
        discord_fake.refuse_gateway(503)
        await discord_fake.drop_gateway(1000)
        body = await until_ready_is(port, 503, task)
        assert body == {"ready": False, "not_ready": {"discord": "not connected"}}
        assert await get(port, "/healthz") == (200, "ok\n")
        # Health reads the heartbeat the serving process no longer writes, once it is as old
        # as the time /readyz is allowed to take (90 s).
        age(db_path, "discord", STALE_AFTER_SECONDS + 1)
        code, out = await health(settings, capsys)
        assert code == 1 and "discord: NOT connected" in out
        assert (await ready(port))[0] == 503

        # Back: both say so again.
        discord_fake.refuse_gateway(None)
        assert await until_ready_is(port, 200, task) == {"ready": True}
        await beats_of(db_path, "discord", 1, task)
        code, out = await health(settings, capsys)
        assert code == 0, out
    finally:
        stop.set()
    assert await asyncio.wait_for(task, 15) == 0
    with pytest.raises(aiohttp.ClientConnectionError):  # the listener went with serve
        await get(port, "/healthz")


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own, to stop and start again (the session's is
    shared by other tests)."""
    bin_dir = server_binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries: install the Debian package postgresql")
    folder = Path(tempfile.mkdtemp(prefix="lambert-pg-probes-"))
    cluster = Cluster(bin_dir, folder)
    try:
        cluster.init()
        cluster.start()
        yield cluster
        cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
async def test_readyz_follows_the_database_away_and_back_and_health_agrees(
    own_postgres: Cluster,
    db_path: Path,
    port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = probe_settings(db_path, port, LAMBERT_DATABASE_URL=own_postgres.url())
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop, ready=QUICK))
    try:
        assert await until_ready_is(port, 200, task) == {"ready": True}
        assert await health(settings, capsys) == (0, health_text(settings, "ok"))

        await asyncio.to_thread(own_postgres.stop, "immediate")
        body = await until_ready_is(port, 503, task)
        assert list(body["not_ready"]) == ["database"], body
        assert await get(port, "/healthz") == (200, "ok\n")
        code, out = await health(settings, capsys)
        assert code == 1 and "postgresql: NOT reachable" in out, out

        await asyncio.to_thread(own_postgres.start)
        assert await until_ready_is(port, 200, task) == {"ready": True}
        assert await health(settings, capsys) == (0, health_text(settings, "ok"))
    finally:
        stop.set()
    assert await asyncio.wait_for(task, 15) == 0


def health_text(settings: Settings, postgresql: str) -> str:
    return f"database: ok ({settings.db_path})\npostgresql: {postgresql}\n"


async def test_a_taken_port_stops_serve_naming_the_variable(db_path: Path, port: int) -> None:
    async with _holding(port):
        settings = probe_settings(
            db_path, port, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN
        )
        with pytest.raises(ConfigError, match=f"LAMBERT_HTTP_PORT={port}: port {port}"):
            await serving.serve(settings, asyncio.Event())


class _holding:
    """Something else listening on `port` meanwhile."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def __aenter__(self) -> None:
        self.server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", self.port)

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()


@pytest.mark.parametrize(
    ("env", "port", "host"),
    [
        ({}, None, "127.0.0.1"),
        ({"LAMBERT_HTTP_PORT": " "}, None, "127.0.0.1"),
        ({"LAMBERT_HTTP_PORT": "9464"}, 9464, "127.0.0.1"),
        ({"LAMBERT_HTTP_PORT": "8000", "LAMBERT_HTTP_HOST": "0.0.0.0"}, 8000, "0.0.0.0"),
    ],
)
def test_http_settings(env: dict[str, str], port: int | None, host: str) -> None:
    settings = load_settings(env)
    assert (settings.http_port, settings.http_host) == (port, host)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LAMBERT_HTTP_PORT": "80a"}, "LAMBERT_HTTP_PORT='80a' is not a port"),
        ({"LAMBERT_HTTP_PORT": "70000"}, "LAMBERT_HTTP_PORT='70000' is not a port"),
        ({"LAMBERT_HTTP_HOST": "my host"}, "LAMBERT_HTTP_HOST='my host' is not an address"),
    ],
)
def test_bad_http_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env)


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({"LAMBERT_HTTP_PORT": "3000"}, True),
        ({"LAMBERT_HTTP_PORT": "3000", "LAMBERT_HTTP_HOST": "0.0.0.0"}, True),
        ({"LAMBERT_HTTP_PORT": "3000", "LAMBERT_HTTP_HOST": "127.0.0.2"}, False),
        ({"LAMBERT_HTTP_PORT": "3000", "SLACK_APP_TOKEN": APP_TOKEN}, False),  # Socket Mode
        ({"LAMBERT_HTTP_PORT": "3001"}, False),
    ],
)
def test_the_probes_on_slacks_port_is_lambert_using_it_twice(
    env: dict[str, str], refused: bool
) -> None:
    slack_http = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s" * 32}
    twice = "lambert itself is configured to use port 3000 twice"
    if refused:
        with pytest.raises(ConfigError, match=twice):
            load_settings(slack_http | env)
    else:
        load_settings(slack_http | env)


# Probes without HTTP or serve: readiness rules, its cache, shards.


class Database:
    """Answers, fails or hangs as told; counts the queries it was asked."""

    def __init__(self) -> None:
        self.asked = 0
        self.failure: Exception | None = None
        self.hang = False

    async def __call__(self) -> None:
        self.asked += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.failure is not None:
            raise self.failure


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Ticks:
    return Ticks()


async def test_one_database_answer_serves_every_probe_within_the_cache(clock: Ticks) -> None:
    database = Database()
    probes = Probes(database, [], PrometheusMetrics(), ReadyTiming(cache=5.0), clock)
    assert (await probes.readyz()).status == 200
    database.failure = ConnectionRefusedError()
    clock.now = 4.9
    assert [(await probes.readyz()).status for _ in range(3)] == [200, 200, 200]
    assert database.asked == 1
    clock.now = 5.0
    answer = await probes.readyz()
    assert answer.status == 503 and answer.content_type == "application/json"
    assert json.loads(answer.body) == {
        "ready": False,
        "not_ready": {"database": "unreachable (ConnectionRefusedError)"},
    }
    database.failure = None
    clock.now = 10.0
    assert (await probes.readyz()).status == 200
    assert database.asked == 3


async def test_a_database_that_does_not_answer_is_not_ready(clock: Ticks) -> None:
    database = Database()
    database.hang = True
    probes = Probes(database, [], PrometheusMetrics(), ReadyTiming(timeout=0.01), clock)
    assert await probes.not_ready() == {"database": "no answer within 0.01 s"}


async def test_probes_arriving_together_share_one_query(clock: Ticks) -> None:
    database = Database()
    probes = Probes(database, [], PrometheusMetrics(), ReadyTiming(cache=5.0), clock)
    answers = await asyncio.gather(*(probes.readyz() for _ in range(5)))
    assert {a.status for a in answers} == {200} and database.asked == 1


async def test_every_platform_and_every_shard_must_be_connected(clock: Ticks) -> None:
    discord = ShardedPlatform("discord", shard_states={0: True, 1: True})
    slack = Platform("slack")
    probes = Probes(Database(), [discord, slack], PrometheusMetrics(), clock=clock)
    assert await probes.not_ready() == {}
    discord.shard_states[1] = False
    slack.connected = False
    assert not is_connected(discord)
    assert await probes.not_ready() == {
        "discord": "shards not connected: 1",
        "slack": "not connected",
    }
    discord.connected = False
    assert (await probes.not_ready())["discord"] == "not connected"
