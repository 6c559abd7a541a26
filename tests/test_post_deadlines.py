"""A platform that accepts and never answers costs a daily post at most ports.POST_DEADLINE:
ambiguous once the post may have gone out, transient while nothing was sent. Hung fakes
(faults.Hangs) and a small injected deadline; the real slack_sdk and discord.py clients."""

from __future__ import annotations

import asyncio
import io
from datetime import date

import pytest

from bot.adapters.discord.poster import open_discord_poster
from bot.adapters.slack.poster import SlackPoster, web_client
from bot.config import Secret, Settings
from bot.ports import AmbiguousPostError, TransientPostError
from bot.runtime import Core
from tests.fakes.discord_platform import API, FakeDiscord
from tests.fakes.slack_platform import BOT_TOKEN, CHANNEL_ID, TEAM_ID, FakeSlack
from tests.support.slack import Sleeps, install, oauth_settings, running_platform

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

DEADLINE = 0.05  # seconds, injected: the real one is 30
PATIENCE = 5.0  # a post the deadline did not end fails the test instead of hanging it
DAY = date(2025, 6, 2)


async def test_a_hung_slack_post_ends_ambiguous_at_the_deadline(
    fake_slack: FakeSlack, core: Core
) -> None:
    settings = Settings(slack_bot_token=Secret(BOT_TOKEN))
    client = web_client(settings, base_url=fake_slack.api_url, sleep=Sleeps())  # 15 s per call
    poster = SlackPoster(client, deadline=DEADLINE)
    quote = await core.quotes.random_quote()
    assert quote is not None
    fake_slack.hangs.hang("POST", "/api/chat.postMessage")

    async with asyncio.timeout(PATIENCE):
        with pytest.raises(AmbiguousPostError, match="may have posted"):
            await poster.post_daily(CHANNEL_ID, quote, DAY)


async def test_a_hung_token_refresh_ends_transient_with_nothing_sent(
    fake_slack: FakeSlack, core: Core, settings: Settings
) -> None:
    fake_slack.token_seconds[TEAM_ID] = 60  # rotation on, inside the refresh window
    quote = await core.quotes.random_quote()
    assert quote is not None
    async with running_platform(fake_slack, core, oauth_settings(settings)) as platform:
        await install(fake_slack, platform, TEAM_ID)
        poster = platform.poster()
        poster.deadline = DEADLINE
        fake_slack.hangs.hang("POST", "/api/oauth.v2.access")

        async with asyncio.timeout(PATIENCE):
            with pytest.raises(TransientPostError, match="nothing was sent"):
                await poster.post_daily(f"{TEAM_ID}/{CHANNEL_ID}", quote, DAY)
    assert fake_slack.calls("chat.postMessage") == []


async def test_a_hung_discord_login_is_a_connection_error_at_the_deadline(
    fake_discord: FakeDiscord, settings: Settings
) -> None:
    token_settings = Settings(**{**vars(settings), "discord_token": Secret("fake-token")})
    fake_discord.hangs.hang("GET", f"{API}/users/@me")

    async with asyncio.timeout(PATIENCE):
        with pytest.raises(ConnectionError, match="did not answer the login"):
            async with open_discord_poster(token_settings, io.StringIO(), deadline=DEADLINE):
                pass
