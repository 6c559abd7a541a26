"""Daily quotes in Slack: set from chat by admins only, posted by the scheduler through Slack."""

from __future__ import annotations

import json
from datetime import UTC, time, timedelta

import pytest

from bot.adapters.slack.app import SlackPlatform
from bot.config import Settings
from bot.daily.store import DailyStore
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    MEMBER_ID,
    OWNER_ID,
    TEAM_ID,
    FakeSlack,
)
from tests.support.slack import Sleeps, quote_id_of, running_platform, slack_settings, slash
from tests.support.ticks import next_nine_in_berlin, tick_at

TURN_ON = "daily on 09:00 Europe/Berlin"
BROKEN = "C0BROKEN"  # sorts before CHANNEL_ID: its failure comes first


@pytest.fixture
async def platform(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings, sleeps: Sleeps
):
    async with running_platform(fake_slack, core, slack_settings(settings), sleeps) as started:
        yield started


def schedules(core: Core) -> DailyStore:
    return core.daily.store


async def test_a_member_is_refused_and_nothing_is_written(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform, service: QuoteService
) -> None:
    reply = (await slash(fake_slack, platform, TURN_ON, user_id=MEMBER_ID)).body

    assert reply["response_type"] == "ephemeral"
    assert "Only admins" in reply["blocks"][0]["text"]["text"]
    assert "workspace admin or owner" in json.dumps(reply)
    assert await schedules(core).schedules() == []
    assert (await fake_slack.next_call("users.info")).args["user"] == MEMBER_ID


@pytest.mark.parametrize("user_id", [ADMIN_ID, OWNER_ID])
async def test_an_admin_or_owner_creates_the_schedule(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform, service: QuoteService, user_id: str
) -> None:
    reply = (await slash(fake_slack, platform, TURN_ON, user_id=user_id)).body

    assert "Daily quote on" in reply["blocks"][0]["text"]["text"]
    saved = await schedules(core).schedule("slack", f"{TEAM_ID}/{CHANNEL_ID}")
    assert saved is not None and saved.enabled
    assert (saved.local_time, saved.tz, saved.theme) == (time(9), "Europe/Berlin", None)

    status = (await slash(fake_slack, platform, "daily status", user_id=user_id)).body
    assert "every day at 09:00 Europe/Berlin" in status["blocks"][0]["text"]["text"]


async def test_a_user_listed_in_slack_admins_needs_no_role(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings
) -> None:
    listed = slack_settings(settings, slack_admins=frozenset({MEMBER_ID}))
    async with running_platform(fake_slack, core, listed) as started:
        await slash(fake_slack, started, TURN_ON + " dpo", user_id=MEMBER_ID)

    saved = await schedules(core).schedule("slack", f"{TEAM_ID}/{CHANNEL_ID}")
    assert saved is not None and saved.theme == "dpo-vs-ppo"
    assert fake_slack.calls("users.info") == []


async def test_only_daily_requests_look_up_the_user(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    await slash(fake_slack, platform, "dpo")
    await slash(fake_slack, platform, "search daily")
    assert fake_slack.calls("users.info") == []


async def test_a_due_tick_posts_and_a_lost_channel_turns_itself_off(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform, service: QuoteService
) -> None:
    for channel in (BROKEN, CHANNEL_ID):
        await slash(fake_slack, platform, TURN_ON, user_id=ADMIN_ID, channel_id=channel)
    fake_slack.fail_channel(BROKEN, "channel_not_found")

    report = await tick_at(core, platform, next_nine_in_berlin() + timedelta(minutes=1))

    assert [p["channel"] for p in report.posted] == [f"{TEAM_ID}/{CHANNEL_ID}"]
    (failed,) = report.failed
    assert failed["channel"] == f"{TEAM_ID}/{BROKEN}" and failed["disabled"] is True
    broken = await schedules(core).schedule("slack", f"{TEAM_ID}/{BROKEN}")
    assert broken is not None and not broken.enabled
    assert "channel_not_found" in (broken.disabled_reason or "")
    posts = [c for c in fake_slack.calls("chat.postMessage") if c.response["ok"]]
    assert [c.args["channel"] for c in posts] == [CHANNEL_ID]
    assert quote_id_of(posts[0].args) == report.posted[0]["quote_id"]

    status = (
        await slash(fake_slack, platform, "daily status", user_id=ADMIN_ID, channel_id=BROKEN)
    ).body
    sections = [b["text"]["text"] for b in status["blocks"] if b["type"] == "section"]
    assert "channel_not_found" in "\n".join(sections)


async def test_a_rate_limited_daily_post_is_retried_once_as_slack_asks(
    core: Core,
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    service: QuoteService,
    sleeps: Sleeps,
) -> None:
    await slash(fake_slack, platform, TURN_ON, user_id=ADMIN_ID)
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)

    report = await tick_at(core, platform, next_nine_in_berlin().astimezone(UTC))

    assert [p["channel"] for p in report.posted] == [f"{TEAM_ID}/{CHANNEL_ID}"]
    assert report.failed == []
    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 200]
    assert sleeps.asked == [1.0]
    assert len(fake_slack.messages) == 1
