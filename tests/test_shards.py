"""Discord shards in one process: the settings, the shard lease on SQLite and PostgreSQL, and
each shard's connection in health and metrics (the real AutoShardedClient on the fake).

The lease's time is moved by ageing its rows in SQL, never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client, slow_rest_warnings
from bot.config import ConfigError, load_settings
from bot.coordination.lease import Leases, ShardsTaken
from bot.coordination.store import LeaseStore
from bot.runtime import open_core
from bot.serving.health import is_connected
from bot.serving.probes import PrometheusMetrics
from bot.storage.connection import connect
from tests.fakes.daily import eventually
from tests.shim.fakes import RemoteDiscord
from tests.support.paths import CORPUS
from tests.support.state import state_engine

APP = "1100000000000000001"


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("", "", (None, None)),
        ("4", "", (4, (0, 1, 2, 3))),
        ("4", "0,1", (4, (0, 1))),
        (" 4 ", " 2 , 3 ", (4, (2, 3))),
        ("4", "0-3", (4, (0, 1, 2, 3))),
        ("8", "6-7,0-1", (8, (0, 1, 6, 7))),
        ("1", "0", (1, (0,))),
        ("16", "5-5", (16, (5,))),
    ],
)
def test_shard_settings(count: str, ids: str, expected: tuple[object, object]) -> None:
    settings = load_settings({"DISCORD_SHARD_COUNT": count, "DISCORD_SHARD_IDS": ids})
    assert (settings.discord_shard_count, settings.discord_shard_ids) == expected


@pytest.mark.parametrize(
    ("count", "ids", "names"),
    [
        ("", "0,1", "DISCORD_SHARD_IDS"),  # ids need the count
        ("0", "", "DISCORD_SHARD_COUNT"),
        ("-2", "", "DISCORD_SHARD_COUNT"),
        ("two", "", "DISCORD_SHARD_COUNT"),
        ("2.0", "", "DISCORD_SHARD_COUNT"),
        ("+2", "", "DISCORD_SHARD_COUNT"),
        ("100001", "", "DISCORD_SHARD_COUNT"),
        ("4", "4", "DISCORD_SHARD_IDS"),  # ids run from 0 to count - 1
        ("4", "0-4", "DISCORD_SHARD_IDS"),
        ("4", "3-1", "DISCORD_SHARD_IDS"),
        ("4", "0,,1", "DISCORD_SHARD_IDS"),
        ("4", "0;1", "DISCORD_SHARD_IDS"),
        ("4", "-1", "DISCORD_SHARD_IDS"),
        ("4", "a-b", "DISCORD_SHARD_IDS"),
        ("4", "0,1,1", "DISCORD_SHARD_IDS"),
        ("4", "0-2,2", "DISCORD_SHARD_IDS"),
        ("4", "١", "DISCORD_SHARD_IDS"),  # an Arabic-Indic one: digits, not ASCII
    ],
)
def test_bad_shard_settings_are_refused_in_one_line_naming_the_variable(
    count: str, ids: str, names: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"DISCORD_SHARD_COUNT": count, "DISCORD_SHARD_IDS": ids})
    message = str(refused.value)
    assert message.startswith(names) and "\n" not in message


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file's path, or the URL of this test's own PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def two_stores(backend: str) -> AsyncIterator[tuple[Leases, Leases, str]]:
    """The lease tables of one database through engines of their own, as two processes."""
    path, url = (
        (Path("unused.db"), backend)
        if backend.startswith("postgresql")
        else (
            Path(backend),
            None,
        )
    )
    async with state_engine(path, url) as one, state_engine(path, url) as two:
        yield Leases(LeaseStore(one)), Leases(LeaseStore(two)), backend


async def age_shard_leases(where: str, seconds: float) -> None:
    """Every shard lease `seconds` closer to its expiry, by the database's clock."""
    if where.startswith("postgresql"):
        conn = await asyncpg.connect(where)
        try:
            await conn.execute(
                "UPDATE shard_leases SET expires_at = expires_at - make_interval(secs => $1)",
                seconds,
            )
        finally:
            await conn.close()
        return
    async with connect(Path(where)) as conn:
        await conn.execute(
            "UPDATE shard_leases SET expires_at = expires_at - ? / 86400.0", (seconds,)
        )
        await conn.commit()


async def test_a_shard_is_leased_by_one_live_process_until_it_stops_or_its_lease_expires(
    two_stores: tuple[Leases, Leases, str],
) -> None:
    mine, theirs, where = two_stores
    first, second, other = mine.shard_lease(), theirs.shard_lease(), theirs.shard_lease()
    await first.acquire(APP, (0,), 2)
    await second.acquire(APP, (1,), 2)  # another shard of the same count: fine
    await other.acquire("another-app", (0,), 2)  # another bot: fine

    third = theirs.shard_lease()
    with pytest.raises(ShardsTaken) as refused:
        await third.acquire(APP, (0, 1), 2)
    assert refused.value.taken.holder == first.holder and refused.value.taken.shard == 0
    assert 50 < refused.value.taken.seconds_left <= 60  # the default lease: 60 s
    with pytest.raises(ShardsTaken) as other_count:  # any shard of another count overlaps
        await third.acquire(APP, (3,), 4)
    assert other_count.value.taken.count == 2

    await second.release()  # a clean stop frees its shard at once
    await third.acquire(APP, (1,), 2)
    assert await first.renew() is None  # renewing what it holds

    await age_shard_leases(where, 61)  # the first process died a minute ago
    late = theirs.shard_lease()
    await late.acquire(APP, (0,), 2)
    taken = await first.renew()  # the stalled first process finds its shard taken
    assert taken is not None and taken.holder == late.holder


def shard_gauges(instruments: PrometheusMetrics) -> dict[str, float]:
    body, _ = instruments.exposition()
    return {
        sample.labels.get("shard", "all"): sample.value
        for family in text_string_to_metric_families(body.decode())
        if family.name in ("lambert_shard_connected", "lambert_platform_connected")
        for sample in family.samples
        if sample.labels["platform"] == "discord"
    }


async def test_a_shard_whose_connection_dropped_shows_in_health_and_metrics_until_it_resumes(
    discord_fake: RemoteDiscord, tmp_path: Path
) -> None:
    env = {"DISCORD_TOKEN": "fake-token", "DISCORD_SHARD_COUNT": "2"}
    settings = load_settings(env, db_path=tmp_path / "lambert.db", corpus_path=CORPUS)
    _, elsewhere = discord_fake.add_guild(shard=0, count=2)  # the test guild is on shard 1
    discord_fake.max_concurrency = 2  # both shards may identify at once
    async with open_core(settings) as core:
        client = make_client(shards=settings, guild_ready_timeout=0.05)
        platform = DiscordPlatform(settings, core, client=client)
        instruments = PrometheusMetrics([platform])
        try:
            await platform.start()
            assert platform.shards() == {0: True, 1: True} and is_connected(platform)
            assert shard_gauges(instruments) == {"all": 1.0, "0": 1.0, "1": 1.0}

            discord_fake.hold_hello = asyncio.Event()  # shard 1 cannot get back for now
            await discord_fake.drop_shard(1)
            await eventually(lambda: not platform.shards()[1], "shard 1 to be down")
            assert platform.shards() == {0: True, 1: False} and not is_connected(platform)
            assert shard_gauges(instruments) == {"all": 0.0, "0": 1.0, "1": 0.0}
            # Shard 0 still answers its servers meanwhile.
            await discord_fake.interact(
                discord_fake.slash_command("lambert", {"query": "dpo"}, channel_id=elsewhere)
            )
            assert (await discord_fake.next_callback()).type in (4, 5)

            discord_fake.hold_hello.set()  # shard 1 resumes its session
            await eventually(lambda: is_connected(platform), "shard 1 to resume")
            assert shard_gauges(instruments) == {"all": 1.0, "0": 1.0, "1": 1.0}
        finally:
            await platform.close()
        assert platform.shards() == {0: False, 1: False}
        await core.leases.shard_lease().acquire(APP, (0, 1), 2)  # dropped at the stop


async def test_a_process_whose_shard_was_taken_meanwhile_stops_and_names_the_holder(
    discord_fake: RemoteDiscord, tmp_path: Path
) -> None:
    """A process stalled past its lease, whose shard another process then took: its next
    renewal (every sixth of LAMBERT_LEASE_SECONDS) finds that out, and it stops answering."""
    env = {"DISCORD_TOKEN": "fake-token", "LAMBERT_LEASE_SECONDS": "0.6"}
    settings = load_settings(env, db_path=tmp_path / "lambert.db", corpus_path=CORPUS)
    async with open_core(settings) as core:
        client = make_client(shards=settings, guild_ready_timeout=0.05)
        platform = DiscordPlatform(settings, core, client=client)
        try:
            await platform.start()  # every shard Discord recommends: the fake's one
            assert platform.shards() == {0: True}
            async with connect(settings.db_path) as conn:  # the other process takes it over
                await conn.execute(
                    "UPDATE shard_leases SET token = 'theirs', holder = 'elsewhere:4242', "
                    "expires_at = julianday('now') + 60 / 86400.0"
                )
                await conn.commit()
            with pytest.raises(ConfigError) as lost:
                async with asyncio.timeout(10):
                    await platform.wait_lost()
            assert "lost its shard lease" in str(lost.value)
            assert "elsewhere:4242" in str(lost.value) and "\n" not in str(lost.value)
            assert not platform.connected
        finally:
            await platform.close()


async def test_a_rest_call_hung_too_long_is_logged_once_without_its_token(
    discord_fake: RemoteDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """discord.py waits on a hung Discord; serve says so (here after 0.05 s, not 30 s)."""
    settings = load_settings(
        {"DISCORD_TOKEN": "fake-token"}, db_path=tmp_path / "lambert.db", corpus_path=CORPUS
    )
    async with open_core(settings) as core:
        client = make_client(
            shards=settings, guild_ready_timeout=0.05, http_trace=slow_rest_warnings(0.05)
        )
        platform = DiscordPlatform(settings, core, client=client)
        try:
            await platform.start()
            discord_fake.hold_callbacks = asyncio.Event()
            command = discord_fake.slash_command("lambert", {"query": "dpo"})
            await discord_fake.interact(command)
            await eventually(lambda: "may be hung" in caplog.text, "the warning")
            discord_fake.hold_callbacks.set()
            assert (await discord_fake.next_callback()).embeds
        finally:
            await platform.close()
    (warning,) = [r for r in caplog.records if "may be hung" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert warning.getMessage() == (
        f"discord: POST api/v10/interactions/{command['id']}/{{token}}/callback has had no "
        "answer for 0.05 s; Discord's API may be hung"
    )
    assert command["token"] not in caplog.text
