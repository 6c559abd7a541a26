"""From one workspace to many, through lambert's real Slack platform: the single-token start
records its workspace (auth.test), and the first many-workspace start keys the channels made
meanwhile by it, so their daily quotes go on with that workspace's OAuth token.

Runs on SQLite and on a real PostgreSQL server (the `many_core` fixture's `backend_url`).
"""

from __future__ import annotations

import io
import logging
from datetime import time

import pytest

from bot.adapters.slack.poster import open_slack_poster, web_client
from bot.config import Secret, Settings
from bot.ports import TransientPostError
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    ORG_ID,
    SECOND_TEAM_ID,
    TEAM_ID,
    FakeSlack,
)
from tests.support.slack import (
    Sleeps,
    oauth_settings,
    running_platform,
    slack_settings,
)
from tests.support.ticks import next_nine_in_berlin, tick_at

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


async def test_a_many_workspace_start_with_nothing_recorded_says_how_to_adopt_once(
    fake_slack: FakeSlack,
    many_core: Core,
    settings: Settings,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Schedules an older lambert made with one token (no workspace recorded): one warning
    line with the fix, and they stay as they are (on, and named bare)."""
    for channel in (CHANNEL_ID, "C0RANDOM"):
        await many_core.daily.turn_on("slack", channel, time(9), "Europe/Berlin", None, ADMIN_ID)

    with caplog.at_level(logging.INFO):
        async with running_platform(fake_slack, many_core, oauth_settings(settings), sleeps):
            pass

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "2 Slack daily schedules" in warnings[0] and "lambert slack adopt" in warnings[0]
    schedules = await many_core.daily.store.schedules()
    assert sorted(s.channel for s in schedules) == ["C0GENERAL", "C0RANDOM"]
    assert all(s.enabled for s in schedules)


@pytest.mark.parametrize("token_of", [SECOND_TEAM_ID, ORG_ID])
async def test_the_single_token_start_records_the_workspace_its_token_belongs_to(
    fake_slack: FakeSlack, many_core: Core, settings: Settings, sleeps: Sleeps, token_of: str
) -> None:
    """Whatever workspace the token is of, that is the one recorded: a team, or for an
    org-wide install the organisation (the name its channels get with many workspaces)."""
    fake_slack.tokens["xoxb-other"] = f"{token_of}#9"
    single = slack_settings(settings, slack_bot_token=Secret("xoxb-other"))
    async with running_platform(fake_slack, many_core, single, sleeps):
        pass
    assert many_core.installs is not None
    assert await many_core.installs.token_workspace("slack") == token_of


async def test_a_lambert_still_on_the_one_token_posts_the_channels_keyed_meanwhile(
    fake_slack: FakeSlack, many_core: Core, settings: Settings, sleeps: Sleeps
) -> None:
    """A replica (or a `daily tick` cron) still on SLACK_BOT_TOKEN while another already keyed
    the channels by workspace: it posts those of its own workspace to the bare channel id,
    and leaves another workspace's alone instead of switching it off as not found."""
    single = slack_settings(settings)
    other = f"{SECOND_TEAM_ID}/C0ELSEWHERE"
    for channel in (f"{TEAM_ID}/{CHANNEL_ID}", other):
        await many_core.daily.turn_on("slack", channel, time(9), "Europe/Berlin", None, ADMIN_ID)
    quote = await many_core.quotes.random_quote()
    assert quote is not None
    day = next_nine_in_berlin().date()

    client = web_client(single, base_url=fake_slack.api_url, sleep=sleeps)
    async with open_slack_poster(single, io.StringIO(), client=client) as poster:
        await poster.post_daily(f"{TEAM_ID}/{CHANNEL_ID}", quote, day)
        with pytest.raises(TransientPostError, match=f"workspace {SECOND_TEAM_ID}'s"):
            await poster.post_daily(other, quote, day)

    sent = fake_slack.calls("chat.postMessage")
    assert [(c.args["channel"], c.bearer) for c in sent] == [(CHANNEL_ID, f"{TEAM_ID}#0")]


async def test_a_serving_replica_on_the_one_token_posts_its_workspaces_keyed_channels(
    fake_slack: FakeSlack, many_core: Core, settings: Settings, sleeps: Sleeps
) -> None:
    """The same, for `lambert serve`: the platform learns its workspace at start."""
    for channel in (f"{TEAM_ID}/{CHANNEL_ID}", f"{SECOND_TEAM_ID}/C0ELSEWHERE"):
        await many_core.daily.turn_on("slack", channel, time(9), "Europe/Berlin", None, ADMIN_ID)

    async with running_platform(fake_slack, many_core, slack_settings(settings), sleeps) as one:
        report = await tick_at(many_core, one, next_nine_in_berlin())

    assert [p["channel"] for p in report.posted] == [f"{TEAM_ID}/{CHANNEL_ID}"]
    (waiting,) = report.failed
    assert waiting["channel"] == f"{SECOND_TEAM_ID}/C0ELSEWHERE" and not waiting["disabled"]
    sent = fake_slack.calls("chat.postMessage")
    assert [(c.args["channel"], c.bearer) for c in sent] == [(CHANNEL_ID, f"{TEAM_ID}#0")]
