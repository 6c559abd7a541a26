"""Pytest fixtures that run a real discord.Client against the loopback fake Discord.

A plugin of the root conftest.py (`pytest_plugins`).
Build clients with `guild_ready_timeout=0.05`, or on_ready waits 2 s for more guilds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import discord
import pytest
import yarl

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client
from bot.config import Secret, Settings
from bot.runtime import Core
from tests.fakes.discord_platform import FakeDiscord


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord; discord.py's REST base and gateway URL point at it."""
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def run_client(
    fake_discord: FakeDiscord,
) -> Callable[..., AbstractAsyncContextManager[FakeDiscord]]:
    """`async with run_client(client) as fake:`, i.e. fake_discord.run_client."""
    return fake_discord.run_client


@pytest.fixture
async def discord_bot(
    settings: Settings, core: Core, fake_discord: FakeDiscord
) -> AsyncIterator[FakeDiscord]:
    """lambert's own DiscordPlatform over `core`, its real client connected to the fake;
    yields the fake, to send interactions and read the answers."""
    settings = replace(settings, discord_token=Secret("fake-token"))
    platform = DiscordPlatform(settings, core, client=make_client(guild_ready_timeout=0.05))
    async with fake_discord.run_client(platform.client) as fake:
        yield fake
