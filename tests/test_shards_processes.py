"""Discord shards across real `lambert serve` processes on the fake Discord, which sends each
guild's events only to the socket of its shard, (guild_id >> 22) % count: each process
answers its own shards' servers, and a second process for a shard already served is refused
with the holder's name (a lease in the shared database, or in the one SQLite file)."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.shim.fake_endpoints import PID_HEADER
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.shim.processes import Lambert, lambert_env, wait_for

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
    pytest.mark.usefixtures("no_process_left_behind"),
]

TOKEN = "MTE0.shard-test-token"


def answered_by(discord: RemoteDiscord, interaction: dict[str, object]) -> list[int]:
    """The pid of each process that answered the interaction's callback."""
    path = f"/interactions/{interaction['id']}/{interaction['token']}/callback"
    return [
        int(value)
        for r in discord.requests
        if r.path == path
        for name, value in r.headers.items()
        if name.lower() == PID_HEADER.lower()
    ]


async def serving(process: Lambert) -> None:
    await wait_for(
        lambda: "connected and answering" in process.err or not process.running,
        "serve to connect to Discord",
    )
    assert process.running, process.err


async def test_two_processes_answer_their_own_shards_and_a_third_for_a_held_shard_is_refused(
    tmp_path: Path, postgres_url: str
) -> None:
    discord = RemoteDiscord()
    await discord.start()
    try:
        _, on_shard_0 = discord.add_guild(shard=0, count=2)
        on_shard_1 = discord.channel_id  # the test guild's channel: its guild is on shard 1
        assert discord.guild_id >> 22 & 1 == 1
        async with RemoteSlack() as slack:

            def env(name: str, ids: str) -> dict[str, str]:
                return lambert_env(
                    tmp_path / f"{name}.db", discord, slack,
                    DISCORD_TOKEN=TOKEN, LAMBERT_DATABASE_URL=postgres_url,
                    DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS=ids,
                )  # fmt: skip

            first = await Lambert(env("first", "0"), "serve").start()
            second = await Lambert(env("second", "1"), "serve").start()
            await serving(first)
            await serving(second)

            commands = [
                discord.slash_command("lambert", {"query": "dpo"}, channel_id=channel)
                for channel in (on_shard_0, on_shard_1)
            ]
            for command in commands:
                await discord.interact(command)
            await wait_for(lambda: all(answered_by(discord, c) for c in commands), "both answers")
            assert [answered_by(discord, c) for c in commands] == [[first.pid], [second.pid]]

            third = await Lambert(env("third", "0"), "serve").start()
            await third.finish()
            first.signal(signal.SIGTERM)
            second.signal(signal.SIGTERM)
            await first.finish()
            await second.finish()
    finally:
        await discord.stop()

    assert third.code not in (0, None), third.err
    refusal = third.err.strip().splitlines()[-1]
    assert refusal.startswith("lambert: ") and "shard 0 of 2" in refusal
    assert f"{socket.gethostname()}:{first.pid}" in refusal
    assert "connected and answering" not in third.err  # refused before connecting
    assert (first.code, second.code) == (0, 0), first.err + second.err
    # Each asked Discord's gateway first; only the two identified, each with its shard.
    assert sum(r.path == "/gateway/bot" for r in discord.requests) >= 2
    identified = sorted(f["d"]["shard"] for f in discord.gateway_frames if f.get("op") == 2)
    assert identified == [[0, 2], [1, 2]]
    # Each process answered only its own shard's server: no answer went twice.
    assert [len(answered_by(discord, c)) for c in commands] == [1, 1]


async def test_without_a_shared_database_a_second_serve_on_one_file_cannot_coordinate(
    tmp_path: Path,
) -> None:
    discord = RemoteDiscord()
    await discord.start()
    try:
        async with RemoteSlack() as slack:
            env = lambert_env(tmp_path / "lambert.db", discord, slack, DISCORD_TOKEN=TOKEN)
            first = await Lambert(env, "serve").start()
            await serving(first)
            second = await (await Lambert(env, "serve").start()).finish()
            first.signal(signal.SIGTERM)
            await first.finish()
    finally:
        await discord.stop()

    assert second.code not in (0, None), second.err
    refusal = second.err.strip().splitlines()[-1]
    assert f"{socket.gethostname()}:{first.pid}" in refusal
    assert "cannot coordinate" in refusal and "LAMBERT_DATABASE_URL" in refusal
    assert first.code == 0, first.err
