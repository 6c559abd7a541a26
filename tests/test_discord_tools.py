"""`lambert discord sync` and `invite`: what they send to Discord and print, over REST only."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import discord
import pytest

from bot.cli import main

SNAPSHOT = Path(__file__).parent / "snapshots" / "discord_commands.json"
UPDATE = "UPDATE_SNAPSHOTS"  # UPDATE_SNAPSHOTS=1 pytest ... rewrites the snapshot


async def run_cli(*argv: str) -> int:
    # main() runs its own asyncio.run, so it gets a thread; the fake keeps serving on this loop.
    return await asyncio.to_thread(main, list(argv))


@pytest.fixture
def with_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token")
    monkeypatch.setenv("LAMBERT_CORPUS", str(Path(__file__).parents[1] / "data" / "lambert.toml"))


async def test_sync_sends_the_snapshotted_command_tree(fake_discord, with_token, capsys) -> None:
    assert await run_cli("discord", "sync") == 0
    put = next(r for r in fake_discord.requests if r.method == "PUT")
    assert put.path == f"/applications/{fake_discord.app_id}/commands"
    if os.environ.get(UPDATE):
        SNAPSHOT.write_text(json.dumps(put.json, indent=2, ensure_ascii=False) + "\n")
    assert put.json == json.loads(SNAPSHOT.read_text()), f"if intended, rerun with {UPDATE}=1"
    daily = next(c for c in put.json if c["name"] == "lambert-daily")
    assert int(daily["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert fake_discord.gateway_frames == []
    assert "synced /lambert, /lambert-daily" in capsys.readouterr().out


async def test_sync_to_one_guild_is_the_same_tree(fake_discord, with_token) -> None:
    assert await run_cli("discord", "sync", "--guild", str(fake_discord.guild_id)) == 0
    put = next(r for r in fake_discord.requests if r.method == "PUT")
    app, guild = fake_discord.app_id, fake_discord.guild_id
    assert put.path == f"/applications/{app}/guilds/{guild}/commands"
    assert put.json == json.loads(SNAPSHOT.read_text())


async def test_invite_asks_for_three_permissions_and_two_scopes(
    fake_discord, with_token, capsys
) -> None:
    assert await run_cli("discord", "invite") == 0
    url = urlparse(capsys.readouterr().out.strip())
    query = parse_qs(url.query)
    assert query["client_id"] == [str(fake_discord.app_id)]
    assert query["scope"] == ["bot applications.commands"]
    permissions = discord.Permissions(int(query["permissions"][0]))
    assert permissions == discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True
    )
    assert fake_discord.gateway_frames == []


@pytest.mark.parametrize("step", ["sync", "invite"])
def test_without_a_token_both_steps_exit_2(step: str, capsys) -> None:
    assert main(["discord", step]) == 2
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err
