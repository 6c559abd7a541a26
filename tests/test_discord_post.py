"""Daily posts to Discord, REST only or over the live connection, and Discord's errors mapped."""

from __future__ import annotations

import asyncio
import io
from datetime import date

import pytest

from bot.adapters.discord.client import DiscordPlatform, create_platform
from bot.adapters.discord.poster import make_client, open_discord_poster
from bot.config import ConfigError, Secret, Settings
from bot.ports import PermanentPostError, TransientPostError
from bot.runtime import Core
from bot.serving import serve as serving
from bot.serving.posters import open_posters

NO_PINGS = {"parse": []}
DAY = date(2025, 1, 1)


@pytest.fixture
def token_settings(settings: Settings) -> Settings:
    return Settings(**{**vars(settings), "discord_token": Secret("fake-token")})


async def test_the_tick_poster_posts_over_rest_without_a_gateway(
    fake_discord, token_settings, service, core
) -> None:
    quote = await service.random_quote("careers")
    async with open_posters(token_settings, ("discord",), io.StringIO()) as posters:
        message_id = await posters["discord"].post_daily(str(fake_discord.channel_id), quote, DAY)
    posted = await fake_discord.next_channel_message()
    assert message_id == posted.message["id"]
    assert posted.embeds[0]["footer"]["text"].endswith("/lambert-daily")
    assert quote.text in posted.embeds[0]["description"]
    assert posted.allowed_mentions == NO_PINGS
    assert fake_discord.gateway_frames == []  # never connected to the gateway
    assert fake_discord.requests[0].path == "/users/@me"


@pytest.mark.parametrize(
    ("status", "error", "reason"),
    [
        (403, PermanentPostError, "no permission to post in this channel"),
        (404, PermanentPostError, "channel not found"),
        (429, TransientPostError, "Discord rate limit: retry in 60 s"),
    ],
)
async def test_discord_errors_become_the_schedulers(
    fake_discord, token_settings, service, status, error, reason
) -> None:
    quote = await service.random_quote()
    fake_discord.fail_channel(fake_discord.channel_id, status, retry_after=60.0)
    async with open_discord_poster(token_settings, io.StringIO()) as poster:
        with pytest.raises(error) as raised:
            await poster.post_daily(str(fake_discord.channel_id), quote, DAY)
        # One channel's trouble is not the next channel's: it posts at once.
        await poster.post_daily(str(fake_discord.channels["quotes"]), quote, DAY)
    assert raised.value.reason == reason
    if status == 429:
        assert raised.value.retry_after == 60.0
    quotes_channel = fake_discord.channels["quotes"]
    assert [m.channel_id for m in fake_discord.channel_messages] == [quotes_channel]


async def test_an_unknown_channel_id_is_permanent(fake_discord, token_settings, service) -> None:
    quote = await service.random_quote()
    async with open_discord_poster(token_settings, io.StringIO()) as poster:
        for channel in ("999", "not-a-number"):
            with pytest.raises(PermanentPostError, match="channel not found"):
                await poster.post_daily(channel, quote, DAY)


async def test_a_rejected_token_is_a_config_error(fake_discord, token_settings) -> None:
    fake_discord.fail("GET", "/users/@me", 401, {"code": 0, "message": "401: Unauthorized"})
    with pytest.raises(ConfigError, match="rejected DISCORD_TOKEN"):
        async with open_discord_poster(token_settings, io.StringIO()):
            pass


def test_without_a_token_nothing_starts(core: Core, settings, service) -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        create_platform(settings, core)


async def test_the_platform_starts_ready_posts_and_closes(
    fake_discord, token_settings, service
) -> None:
    platform = DiscordPlatform(
        token_settings, service, client=make_client(guild_ready_timeout=0.05)
    )
    await platform.start()
    try:
        assert platform.client.is_ready()
        identify = next(f for f in fake_discord.gateway_frames if f["op"] == 2)
        assert identify["d"]["intents"] == 1  # guilds only: no members, no message content
        quote = await service.random_quote()
        await platform.poster().post_daily(str(fake_discord.channel_id), quote, DAY)
        assert (await fake_discord.next_channel_message()).allowed_mentions == NO_PINGS
    finally:
        await platform.close()
    assert platform.client.is_closed()
    # Commands are synced by `lambert discord sync`, never on start.
    assert not any(r.path.endswith("/commands") for r in fake_discord.requests)


async def test_a_platform_that_cannot_log_in_says_so(
    core: Core, fake_discord, token_settings, service
) -> None:
    fake_discord.fail("GET", "/users/@me", 401, {"code": 0, "message": "401: Unauthorized"})
    platform = DiscordPlatform(token_settings, core, client=make_client())
    with pytest.raises(ConfigError, match="rejected DISCORD_TOKEN"):
        await platform.start()
    await platform.close()


@pytest.mark.slow
async def test_serve_connects_discord_when_the_token_is_set_and_stops_cleanly(
    fake_discord, token_settings
) -> None:
    # serve() takes SIGINT/SIGTERM on this test's loop; closing the loop hands them back.
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(token_settings, stop))
    await fake_discord.wait_until(
        lambda: task.done() or any(f["op"] == 2 for f in fake_discord.gateway_frames),
        what="serve to identify to the gateway",
    )
    stop.set()
    assert await asyncio.wait_for(task, 5.0) == 0
    assert fake_discord.unhandled == []
