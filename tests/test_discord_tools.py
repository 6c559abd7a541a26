"""`lambert discord sync` and `invite`: what they send to Discord and print.

sync goes over REST only (never the gateway); invite goes nowhere at all.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import discord
import pytest

from bot.cli import main
from tests.fakes.discord_platform import FakeDiscord

SNAPSHOT = Path(__file__).parent / "snapshots" / "discord_commands.json"
UPDATE = "UPDATE_SNAPSHOTS"  # UPDATE_SNAPSHOTS=1 pytest ... rewrites the snapshot


async def run_cli(*argv: str) -> int:
    # main() runs its own asyncio.run, so it gets a thread; the fake keeps serving on this loop.
    return await asyncio.to_thread(main, list(argv))


@pytest.fixture
def with_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token")
    monkeypatch.setenv("LAMBERT_CORPUS", str(Path(__file__).parents[1] / "data" / "lambert.toml"))


async def test_sync_sends_the_snapshotted_command_tree(
    fake_discord: FakeDiscord, with_token: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("discord", "sync") == 0
    put = next(r for r in fake_discord.requests if r.method == "PUT")
    assert put.path == f"/applications/{fake_discord.app_id}/commands"
    if os.environ.get(UPDATE):
        SNAPSHOT.write_text(json.dumps(put.json, indent=2, ensure_ascii=False) + "\n")
    assert put.json == json.loads(SNAPSHOT.read_text()), f"if intended, rerun with {UPDATE}=1"
    daily = next(c for c in put.json if c["name"] == "lambert-daily")
    assert int(daily["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    # /lambert for server and user installs, in servers, bot DMs and group DMs; the daily
    # group only where a server added the bot (it posts there by itself).
    lambert = next(c for c in put.json if c["name"] == "lambert")
    assert (lambert["integration_types"], lambert["contexts"]) == ([0, 1], [0, 1, 2])
    assert (daily["integration_types"], daily["contexts"]) == ([0], [0])
    assert fake_discord.gateway_frames == []
    assert "synced /lambert, /lambert-daily" in capsys.readouterr().out


async def test_sync_to_one_guild_is_the_same_tree(
    fake_discord: FakeDiscord, with_token: None
) -> None:
    assert await run_cli("discord", "sync", "--guild", str(fake_discord.guild_id)) == 0
    put = next(r for r in fake_discord.requests if r.method == "PUT")
    app, guild = fake_discord.app_id, fake_discord.guild_id
    assert put.path == f"/applications/{app}/guilds/{guild}/commands"
    assert put.json == json.loads(SNAPSHOT.read_text())


def bot_token(user_id: int) -> str:
    """Shaped like a Discord bot token: the user id in unpadded urlsafe base64, then two parts."""
    first = base64.urlsafe_b64encode(str(user_id).encode()).decode().rstrip("=")
    return f"{first}.GhJkLm.not-a-real-secret-but-never-printed"


def links(out: str) -> dict[str, dict[str, list[str]]]:
    """Each printed link by its label ("Add to a server", "Add to my apps"): its query."""
    found = {}
    for line in out.strip().splitlines():
        label, _, url = line.partition(":  ")
        found[label] = parse_qs(urlparse(url.strip()).query)
    return found


def invited(out: str) -> tuple[int, str, discord.Permissions]:
    """The client id, scopes and permissions the add-to-a-server URL asks for."""
    query = links(out)["Add to a server"]
    assert query["integration_type"] == ["0"]
    permissions = discord.Permissions(int(query["permissions"][0]))
    return int(query["client_id"][0]), query["scope"][0], permissions


def user_install(out: str) -> tuple[int, str, str, bool]:
    """The client id, scopes and integration type of the add-to-my-apps URL; any permissions?"""
    query = links(out)["Add to my apps"]
    return (
        int(query["client_id"][0]),
        query["scope"][0],
        query["integration_type"][0],
        "permissions" in query,
    )


THREE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)


async def test_invite_reads_the_application_id_from_the_token_offline(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = bot_token(fake_discord.app_id)
    monkeypatch.setenv("DISCORD_TOKEN", token)
    assert await run_cli("discord", "invite") == 0
    out, err = capsys.readouterr()
    assert invited(out) == (fake_discord.app_id, "bot applications.commands", THREE_PERMISSIONS)
    assert user_install(out)[:3] == (fake_discord.app_id, "applications.commands", "1")
    assert token not in out + err
    assert fake_discord.requests == []
    assert fake_discord.gateway_frames == []


def test_invite_with_a_client_id_needs_no_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discord", "invite", "--client-id", "123456789012345678"]) == 0
    out = capsys.readouterr().out
    assert invited(out) == (123456789012345678, "bot applications.commands", THREE_PERMISSIONS)
    # Added to a member's own apps: the commands only, no bot user, no permissions.
    assert user_install(out) == (123456789012345678, "applications.commands", "1", False)
    assert list(links(out)) == ["Add to a server", "Add to my apps"]


def test_a_client_id_wins_over_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", bot_token(111111111111111111))
    assert main(["discord", "invite", "--client-id", "222222222222222222"]) == 0
    assert invited(capsys.readouterr().out)[0] == 222222222222222222


@pytest.mark.parametrize(
    "token",
    [
        "fake-token",  # decodes, but not to digits
        "bm90LWFuLWlk.GhJkLm.abc",  # "not-an-id"
        "not base64!.GhJkLm.abc",
        "x",  # one character can never be base64
        "\u00e9t\u00e9.GhJkLm.abc",
        ".GhJkLm.abc",  # an empty first part
    ],
)
def test_invite_refuses_a_token_without_a_user_id_in_one_line(
    token: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", token)
    assert main(["discord", "invite"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "DISCORD_TOKEN" in err and "--client-id" in err
    assert token not in err


def test_invite_without_a_token_or_a_client_id_says_which_to_give(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["discord", "invite"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "DISCORD_TOKEN is not set" in err and "--client-id" in err


def test_sync_without_a_token_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discord", "sync"]) == 2
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err
