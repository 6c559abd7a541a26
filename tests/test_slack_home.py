"""The Slack App Home tab: published on app_home_opened; the schedules only for admins."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import modal
from bot.adapters.slack.app import SlackPlatform
from bot.config import Settings
from bot.daily.clock import StoppedClock
from bot.quotes.service import QuoteService, day_index
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    MEMBER_ID,
    TEAM_ID,
    FakeSlack,
    home_action_payload,
    view_submission_payload,
)
from tests.support.slack import (
    Sleeps,
    form_values,
    home_opened,
    interact,
    running_platform,
    slack_settings,
    slash,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def platform(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings, sleeps: Sleeps
):
    core.daily.clock = StoppedClock(NOON)  # the Home tab's day, and the schedules' next posts
    async with running_platform(fake_slack, core, slack_settings(settings), sleeps) as started:
        yield started


async def published(fake_slack: FakeSlack, user_id: str) -> dict[str, Any]:
    call = await fake_slack.api_calls.next(
        lambda c: c.method == "views.publish" and c.args["user_id"] == user_id
    )
    assert call.response["ok"], call.response
    view: dict[str, Any] = call.args["view"]
    return view


def texts(view: dict[str, Any]) -> str:
    found = []
    for block in view["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [e.get("text", "") for e in block.get("elements", []) if e["type"] == "mrkdwn"]
    return "\n".join(found)


def change_buttons(view: dict[str, Any]) -> list[str]:
    buttons = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    buttons += [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return [b["value"] for b in buttons if b["action_id"] == modal.CHANGE]


async def test_admins_see_the_schedules_and_members_do_not(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    await slash(fake_slack, platform, "daily on 09:00 Europe/Berlin dpo", user_id=ADMIN_ID)

    await home_opened(platform, ADMIN_ID)
    await home_opened(platform, MEMBER_ID)
    admin, member = await published(fake_slack, ADMIN_ID), await published(fake_slack, MEMBER_ID)

    assert admin["type"] == member["type"] == "home"
    assert len(admin["blocks"]) <= 100 and len(member["blocks"]) <= 100
    assert f"<#{CHANNEL_ID}> \u00b7 every day at 09:00 Europe/Berlin" in texts(admin)
    assert "Next: Tue 03 Mar, 09:00 CET" in texts(admin)  # the channel's local time
    assert change_buttons(admin) == [CHANNEL_ID, ""]  # Change, then Set up a channel
    assert CHANNEL_ID not in texts(member) and "Daily quotes" not in texts(member)
    assert change_buttons(member) == []
    # The same quote of the day for both; the themes and how to ask for them.
    assert admin["blocks"][:3] == member["blocks"][:3]
    assert "`/lambert" in texts(member) and "Themes" in texts(member)


async def test_the_messages_tab_publishes_nothing(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    await home_opened(platform, MEMBER_ID, tab="messages")
    await platform.handlers.drain()

    assert fake_slack.calls("views.publish") == []


async def test_many_schedules_still_fit_slacks_100_blocks(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    for n in range(120):
        await core.daily.turn_on("slack", f"{TEAM_ID}/C{n:06d}", time(9), "UTC", None, "admin")
    await core.daily.turn_on("discord", "123", time(9), "UTC", None, "admin")

    await home_opened(platform, ADMIN_ID)
    view = await published(fake_slack, ADMIN_ID)

    assert len(view["blocks"]) <= 100
    assert "more: `lambert daily list`" in texts(view)
    assert "123" not in change_buttons(view)  # only Slack's channels


async def test_a_channel_set_up_from_home_shows_on_home_once_saved(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    await interact(platform, home_action_payload(modal.CHANGE, "", user_id=ADMIN_ID))
    call = await fake_slack.next_call("views.open")
    assert call.response["ok"]
    view = call.response["view"]
    assert view["callback_id"] == modal.SETTINGS_VIEW
    assert "initial_conversation" not in str(view)  # no channel to start from on Home

    values = form_values(CHANNEL_ID, "18:00", "Asia/Tokyo", modal.ANY_THEME)
    assert await interact(platform, view_submission_payload(view, values, user_id=ADMIN_ID)) is None

    home = await published(fake_slack, ADMIN_ID)
    assert f"<#{CHANNEL_ID}> \u00b7 every day at 18:00 Asia/Tokyo" in texts(home)
    assert await core.daily.store.schedule("slack", f"{TEAM_ID}/{CHANNEL_ID}") is not None


async def test_the_quote_of_the_day_is_the_same_all_day_and_changes_with_the_day(
    service: QuoteService,
) -> None:
    today = date(2026, 3, 2)
    count = service.count()
    days = [today + timedelta(days=n) for n in range(30)]

    assert day_index(today, count) == day_index(today, count)
    assert len({day_index(day, count) for day in days}) > 10
    first = await service.of_the_day(today)
    again = await service.of_the_day(today)
    assert first is not None and again is not None and first.id == again.id


async def test_the_fake_refuses_views_slack_would_refuse(fake_slack: FakeSlack) -> None:
    """views.publish and views.open as lambert's fake answers them (so its tests mean something)."""
    client = fake_slack.client()
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    too_many = {"type": "home", "blocks": [section] * 101}
    modal_view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    answers = {}
    for name, call in {
        "101 blocks": client.views_publish(user_id=MEMBER_ID, view=too_many),
        "a modal as home": client.views_publish(user_id=MEMBER_ID, view=modal_view),
        "unknown user": client.views_publish(
            user_id="U0NOBODY", view={"type": "home", "blocks": []}
        ),
        "no trigger": client.views_open(trigger_id="", view=modal_view),
        "made-up trigger": client.views_open(trigger_id="12345.98765", view=modal_view),
    }.items():
        try:
            await call
        except SlackApiError as exc:
            answers[name] = exc.response["error"]
    assert answers == {
        "101 blocks": "invalid_arguments",
        "a modal as home": "invalid_arguments",
        "unknown user": "user_not_found",
        "no trigger": "invalid_arguments",
        "made-up trigger": "invalid_trigger_id",
    }
    await client.views_open(trigger_id="trigger-once", view=modal_view)
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        await client.views_open(trigger_id="trigger-once", view=modal_view)


async def test_a_weekday_schedule_says_its_days_on_home(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    await interact(platform, home_action_payload(modal.CHANGE, "", user_id=ADMIN_ID))
    view = (await fake_slack.next_call("views.open")).response["view"]
    values = form_values(CHANNEL_ID, "18:00", "Asia/Tokyo", modal.ANY_THEME, ("mon", "wed", "fri"))
    assert await interact(platform, view_submission_payload(view, values, user_id=ADMIN_ID)) is None

    home = texts(await published(fake_slack, ADMIN_ID))
    assert f"<#{CHANNEL_ID}> \u00b7 Mon, Wed, Fri at 18:00 Asia/Tokyo" in home
    # Monday 21:00 in Tokyo: today's 18:00 is past, and Tuesday is not a day it posts on.
    assert "Next: Wed 04 Mar, 18:00 JST" in home
