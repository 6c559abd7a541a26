"""A platform that accepts and never answers costs a daily post at most ports.POST_DEADLINE:
ambiguous once the post may have gone out, transient while nothing was sent. Hung fakes
(faults.Hangs) and a small injected deadline; the real slack_sdk and discord.py clients."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, time

import pytest

from bot.adapters.discord.poster import open_discord_poster
from bot.adapters.slack.poster import SlackPoster, web_client
from bot.config import ConfigError, Secret, Settings
from bot.daily.clock import StoppedClock
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import Schedule
from bot.ports import AmbiguousPostError, TransientPostError
from bot.runtime import Core
from bot.serving.posters import open_posters
from tests.fakes.daily import eventually
from tests.fakes.discord_platform import API, FakeDiscord
from tests.fakes.slack_platform import BOT_TOKEN, CHANNEL_ID, TEAM_ID, FakeSlack
from tests.shim.fakes import RemoteSlack
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


AT = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
SLACK_CHANNELS = [f"{TEAM_ID}/C0DAILY{n}" for n in range(3)]


async def both_due(core: Core, discord_channels: list[str]) -> None:
    """Three Slack channels and Discord's due at AT."""
    set_at = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)  # the evening before
    for platform, channels in (("slack", SLACK_CHANNELS), ("discord", discord_channels)):
        for channel in channels:
            await core.daily.store.save_schedules(
                [Schedule(platform, channel, time(9), "UTC", None, True, "test", set_at)]
            )


def both_platforms(settings: Settings) -> Settings:
    tokens = {"discord_token": Secret("fake-token"), "slack_bot_token": Secret(BOT_TOKEN)}
    return Settings(**{**vars(settings), **tokens})


async def test_a_hung_discord_login_holds_up_no_slack_post(
    fake_discord: FakeDiscord, slack_fake: RemoteSlack, core: Core, settings: Settings
) -> None:
    """Discord is opened first (platforms in name order) and never answers its login: Slack's
    posts go out meanwhile, and Discord's days are retried, not lost (issue 19, point 11)."""
    discord_channels = [str(fake_discord.channel_id)]
    await both_due(core, discord_channels)
    fake_discord.hangs.hang("GET", f"{API}/users/@me")
    daily = core.daily.with_clock(StoppedClock(AT))

    async with open_posters(
        both_platforms(settings), ("discord", "slack"), io.StringIO()
    ) as posters:
        ticking = asyncio.create_task(Scheduler(core.quotes, daily, posters).tick())
        await eventually(lambda: len(slack_fake.posts) == len(SLACK_CHANNELS), "Slack's posts")
        assert not ticking.done() and fake_discord.channel_messages == []  # still hung
        fake_discord.hangs.cut()  # the login ends unanswered, as at its deadline
        async with asyncio.timeout(PATIENCE):
            report = (await ticking).as_json()

    assert sorted(p["channel"] for p in report["posted"]) == SLACK_CHANNELS
    (failed,) = report["failed"]
    assert failed["channel"] == discord_channels[0] and failed["retry_at_utc"]
    assert "could not reach discord" in failed["reason"] and not failed["disabled"]
    assert fake_discord.channel_messages == []


async def test_a_rejected_token_still_stops_the_tick_once_the_others_posted(
    fake_discord: FakeDiscord, slack_fake: RemoteSlack, core: Core, settings: Settings
) -> None:
    discord_channels = [str(fake_discord.channel_id)]
    await both_due(core, discord_channels)
    fake_discord.fail("GET", "/users/@me", 401, {"code": 0, "message": "401: Unauthorized"})
    daily = core.daily.with_clock(StoppedClock(AT))

    with pytest.raises(ConfigError, match="Discord rejected DISCORD_TOKEN"):
        async with open_posters(
            both_platforms(settings), ("discord", "slack"), io.StringIO()
        ) as posters:
            await Scheduler(core.quotes, daily, posters).tick()
    assert len(slack_fake.posts) == len(SLACK_CHANNELS)
    record = (await core.daily.store.latest())[("discord", discord_channels[0])]
    assert record.status == "retrying" and "rejected DISCORD_TOKEN" in record.reason
