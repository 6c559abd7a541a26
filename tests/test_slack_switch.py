"""From one workspace to many, through lambert's real Slack platform: one token names its
channels by workspace as many do, so their daily quotes go on with that workspace's OAuth
token once it installs the app, and replicas on either side share them.

Runs on SQLite and on a real PostgreSQL server (the `many_core` fixture's `backend_url`).
"""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest

from bot.adapters.slack.poster import open_slack_poster, web_client
from bot.config import Settings
from bot.ports import TransientPostError
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    SECOND_TEAM_ID,
    TEAM_ID,
    FakeSlack,
)
from tests.support.slack import (
    Sleeps,
    install,
    oauth_settings,
    running_platform,
    slack_settings,
    slash,
)
from tests.support.ticks import next_nine_in_berlin, tick_at

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


async def test_a_channel_set_up_with_one_token_keeps_posting_once_the_app_serves_many(
    fake_slack: FakeSlack, many_core: Core, settings: Settings, sleeps: Sleeps
) -> None:
    single = slack_settings(settings)
    async with running_platform(fake_slack, many_core, single, sleeps) as one:
        reply = await slash(fake_slack, one, "daily on 09:00 Europe/Berlin", user_id=ADMIN_ID)
        assert "09:00" in str(reply.body), reply.body
        first_nine = next_nine_in_berlin()
        await tick_at(many_core, one, first_nine)  # a day of history
    # One token names the channel by its workspace too: nothing moves at the switch.
    named = [s.channel for s in await many_core.daily.store.schedules()]
    assert named == [f"{TEAM_ID}/{CHANNEL_ID}"]

    async with running_platform(fake_slack, many_core, oauth_settings(settings), sleeps) as many:
        # The day already posted is the same day: no second post on it.
        await install(fake_slack, many, TEAM_ID)
        await tick_at(many_core, many, first_nine + timedelta(minutes=5))
        assert len(fake_slack.calls("chat.postMessage")) == 1
        await tick_at(many_core, many, first_nine + timedelta(days=1))

    bearers = [c.bearer for c in fake_slack.calls("chat.postMessage")]
    assert bearers == [f"{TEAM_ID}#0", f"{TEAM_ID}#1"]  # the old token, then the install's
    status = await many_core.daily.status("slack", f"{TEAM_ID}/{CHANNEL_ID}")
    assert status is not None and status.schedule.enabled


async def test_switched_channels_wait_for_their_workspace_to_install_the_app(
    fake_slack: FakeSlack, many_core: Core, settings: Settings, sleeps: Sleeps
) -> None:
    """/slack/install only works once the many-workspace lambert serves, so a post that
    falls due before the admin clicks Install waits; it does not switch the schedule off."""
    async with running_platform(fake_slack, many_core, slack_settings(settings), sleeps) as one:
        await slash(fake_slack, one, "daily on 09:00 Europe/Berlin", user_id=ADMIN_ID)
    nine = next_nine_in_berlin()

    async with running_platform(fake_slack, many_core, oauth_settings(settings), sleeps) as many:
        await tick_at(many_core, many, nine)  # not installed yet
        key = f"{TEAM_ID}/{CHANNEL_ID}"
        schedule = await many_core.daily.store.schedule("slack", key)
        assert schedule is not None and schedule.enabled
        status = await many_core.daily.status("slack", key)
        assert status is not None and status.last is not None
        assert "waiting for the app to be installed" in (status.last.reason or "")
        assert fake_slack.calls("chat.postMessage") == []

        await install(fake_slack, many, TEAM_ID)
        await tick_at(many_core, many, nine + timedelta(minutes=30))  # its retry time has come

    assert [c.bearer for c in fake_slack.calls("chat.postMessage")] == [f"{TEAM_ID}#1"]


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
