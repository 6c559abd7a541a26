"""The daily form in Slack: views.open for admins, zone type-ahead, inline errors, saving."""

from __future__ import annotations

import logging
from datetime import date, time
from typing import Any

import pytest

from bot.adapters.slack import modal
from bot.adapters.slack.app import SlackPlatform
from bot.config import Secret, Settings
from bot.daily.schedules import parse_days
from bot.quotes.service import QuoteService
from bot.runtime import Core
from bot.stats.store import COMMAND, Scope
from tests.fakes.slack_platform import (
    ADMIN_ID,
    APP_TOKEN,
    CHANNEL_ID,
    MEMBER_ID,
    OWNER_ID,
    TEAM_ID,
    FakeSlack,
    app_home_opened_event,
    block_suggestion_payload,
    home_action_payload,
    slash_command_payload,
    view_submission_payload,
)
from tests.support.slack import (
    Sleeps,
    click,
    form_values,
    interact,
    open_form,
    running_platform,
    slack_settings,
    slash,
)

OTHER = "C0OTHER"


@pytest.fixture
async def platform(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings, sleeps: Sleeps
):
    async with running_platform(fake_slack, core, slack_settings(settings), sleeps) as started:
        yield started


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The form's input elements by block id."""
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


async def submit(
    platform: SlackPlatform, view: dict[str, Any], values: dict[str, Any], user_id: str = ADMIN_ID
) -> dict[str, Any] | None:
    return await interact(platform, view_submission_payload(view, values, user_id=user_id))


@pytest.mark.parametrize("user_id", [ADMIN_ID, OWNER_ID])
async def test_an_admins_daily_opens_the_form_with_the_commands_trigger(
    fake_slack: FakeSlack, platform: SlackPlatform, user_id: str
) -> None:
    call = await open_form(fake_slack, platform, user_id)

    assert call.response["ok"], call.response
    assert call.args["trigger_id"].startswith("trigger-")
    view = call.args["view"]
    assert (view["type"], view["callback_id"]) == ("modal", modal.SETTINGS_VIEW)
    fields = inputs(view)
    assert fields[modal.CHANNEL_BLOCK]["initial_conversation"] == CHANNEL_ID
    assert fields[modal.TIME_BLOCK]["type"] == "timepicker"
    assert fields[modal.ZONE_BLOCK]["type"] == "external_select"
    zone = fields[modal.ZONE_BLOCK]["initial_option"]["value"]
    assert zone == ("Europe/Berlin" if user_id == ADMIN_ID else "America/New_York")  # users.info tz
    themes = [o["value"] for o in fields[modal.THEME_BLOCK]["options"]]
    assert themes[0] == modal.ANY_THEME and "dpo-vs-ppo" in themes
    days = fields[modal.DAYS_BLOCK]
    assert days["type"] == "checkboxes"
    assert [o["text"]["text"] for o in days["options"]][:2] == ["Monday", "Tuesday"]
    assert days["initial_options"] == days["options"]  # every day, until changed
    await platform.handlers.drain()
    assert fake_slack.responses.items == []  # the form is the whole answer
    assert len(fake_slack.calls("users.info")) == 1  # admin and zone from one lookup


async def test_a_member_gets_no_form(fake_slack: FakeSlack, platform: SlackPlatform) -> None:
    reply = (await slash(fake_slack, platform, "daily", user_id=MEMBER_ID)).body

    assert fake_slack.calls("views.open") == []
    text = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    assert "Only admins" in text or "No daily quote here" in text  # refused, or read-only status
    assert all(b["type"] != "actions" for b in reply["blocks"])  # no Change button


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("berl", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("new_y", "America/New_York"),
        ("utc", "UTC"),
        ("europe/ber", "Europe/Berlin"),
    ],
)
async def test_the_zone_menu_suggests_as_the_user_types(
    fake_slack: FakeSlack, platform: SlackPlatform, typed: str, first: str
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]
    payload = block_suggestion_payload(view, modal.ZONE_BLOCK, modal.ZONE, typed, user_id=ADMIN_ID)

    answer = await interact(platform, payload)

    assert answer is not None
    values = [o["value"] for o in answer["options"]]
    assert values[0] == first
    assert all(o["text"]["type"] == "plain_text" for o in answer["options"])


@pytest.mark.parametrize("typed", ["a", "e", "/", "  "])
async def test_zone_suggestions_never_pass_slacks_limit(
    fake_slack: FakeSlack, platform: SlackPlatform, typed: str
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]
    payload = block_suggestion_payload(view, modal.ZONE_BLOCK, modal.ZONE, typed)

    answer = await interact(platform, payload)

    assert answer is not None and len(answer["options"]) <= 100


async def test_a_forged_25_00_is_answered_inline_and_nothing_is_written(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]

    answer = await submit(
        platform, view, form_values(CHANNEL_ID, "25:00", "Europe/Berlin", modal.ANY_THEME)
    )

    assert answer is not None and answer["response_action"] == "errors"
    assert set(answer["errors"]) == {modal.TIME_BLOCK}
    assert "25:00" in answer["errors"][modal.TIME_BLOCK]
    await platform.handlers.drain()
    assert await core.daily.store.schedules() == []
    assert fake_slack.calls("chat.postEphemeral") == []


async def test_a_direct_message_is_refused_as_the_channel_in_one_line(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]

    answer = await submit(platform, view, form_values("D0DIRECT1", "09:00", "UTC", "any"))

    assert answer is not None and answer["response_action"] == "errors"
    assert answer["errors"] == {
        modal.CHANNEL_BLOCK: "Pick a channel: a direct message cannot take the daily quote."
    }
    await platform.handlers.drain()
    assert await core.daily.store.schedules() == []


async def test_every_bad_field_is_answered_at_once(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]

    answer = await submit(
        platform, view, form_values(None, "9am", "Mars/Olympus", "no-such", days=())
    )

    assert answer is not None and answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        modal.CHANNEL_BLOCK,
        modal.TIME_BLOCK,
        modal.DAYS_BLOCK,
        modal.ZONE_BLOCK,
        modal.THEME_BLOCK,
    }
    assert await core.daily.store.schedules() == []


async def test_a_valid_submission_is_written_and_confirmed(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]

    answer = await submit(
        platform, view, form_values(CHANNEL_ID, "17:30", "America/New_York", "dpo-vs-ppo")
    )

    assert answer is None  # a bare ack closes the modal
    confirmed = await fake_slack.next_call("chat.postEphemeral")
    assert (confirmed.args["channel"], confirmed.args["user"]) == (CHANNEL_ID, ADMIN_ID)
    assert "every day at 17:30 America/New_York" in confirmed.args["text"]
    saved = await core.daily.store.schedule("slack", f"{TEAM_ID}/{CHANNEL_ID}")
    assert saved is not None and saved.enabled
    assert (saved.local_time, saved.tz, saved.theme) == (
        time(17, 30),
        "America/New_York",
        "dpo-vs-ppo",
    )


async def test_the_days_checked_are_the_days_it_posts_on(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]
    values = form_values(CHANNEL_ID, "07:00", "Europe/Berlin", "any", days=("fri", "mon", "wed"))

    assert await submit(platform, view, values) is None

    confirmed = await fake_slack.next_call("chat.postEphemeral")
    assert "Daily quote on: Mon, Wed, Fri at 07:00 Europe/Berlin." in confirmed.args["text"]
    saved = await core.daily.store.schedule("slack", f"{TEAM_ID}/{CHANNEL_ID}")
    assert saved is not None and saved.weekdays == parse_days("mon,wed,fri")


@pytest.mark.parametrize(
    ("days", "error"),
    [((), "Pick at least one day."), (("mon", "funday"), "Pick days from the list.")],
)
async def test_no_day_or_a_forged_one_is_answered_inline_and_nothing_is_written(
    core: Core,
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    days: tuple[str, ...],
    error: str,
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]

    answer = await submit(platform, view, form_values(CHANNEL_ID, "09:00", "UTC", "any", days))

    assert answer == {"response_action": "errors", "errors": {modal.DAYS_BLOCK: error}}
    await platform.handlers.drain()
    assert await core.daily.store.schedules() == []


async def test_a_weekday_schedule_opens_with_its_days_checked(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    await slash(fake_slack, platform, "daily on 07:45 weekdays Asia/Tokyo", user_id=ADMIN_ID)
    status = (await slash(fake_slack, platform, "daily status", user_id=ADMIN_ID)).body
    assert "weekdays at 07:45 Asia/Tokyo" in status["blocks"][0]["text"]["text"]

    await click(fake_slack, platform, status, modal.CHANGE, user_id=ADMIN_ID)

    call = await fake_slack.next_call("views.open")
    assert call.response["ok"], call.response  # the fake checks initial_options as Slack does
    days = inputs(call.args["view"])[modal.DAYS_BLOCK]
    assert [o["value"] for o in days["initial_options"]] == ["mon", "tue", "wed", "thu", "fri"]


async def test_a_members_forged_submission_is_refused_and_nothing_is_written(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]

    await submit(
        platform,
        view,
        form_values(CHANNEL_ID, "09:00", "Europe/Berlin", modal.ANY_THEME),
        user_id=MEMBER_ID,
    )

    refused = await fake_slack.next_call("chat.postEphemeral")
    assert refused.args["user"] == MEMBER_ID and "Only admins" in refused.args["text"]
    assert await core.daily.store.schedules() == []


async def test_a_channel_lambert_cannot_reach_is_said_where_the_form_was_opened(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    fake_slack.fail_channel(OTHER, "not_in_channel")
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]

    await submit(platform, view, form_values(OTHER, "08:15", "Europe/Berlin", modal.ANY_THEME))

    failed = await fake_slack.next_call("chat.postEphemeral")
    assert (failed.args["channel"], failed.response["error"]) == (OTHER, "not_in_channel")
    told = await fake_slack.next_call("chat.postEphemeral")
    assert told.args["channel"] == CHANNEL_ID and told.response["ok"]
    assert f"<#{OTHER}>" in str(told.args["blocks"]) and "/invite @lambert" in str(told.args)
    assert await core.daily.store.schedule("slack", f"{TEAM_ID}/{OTHER}") is not None


async def test_the_status_reply_has_a_change_button_that_opens_the_form_filled_in(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    await slash(fake_slack, platform, "daily on 07:45 Asia/Tokyo rlhf", user_id=ADMIN_ID)
    status = (await slash(fake_slack, platform, "daily status", user_id=ADMIN_ID)).body
    assert "every day at 07:45 Asia/Tokyo" in status["blocks"][0]["text"]["text"]

    await click(fake_slack, platform, status, modal.CHANGE, user_id=ADMIN_ID)

    view = (await fake_slack.next_call("views.open")).args["view"]
    fields = inputs(view)
    assert fields[modal.TIME_BLOCK]["initial_time"] == "07:45"
    assert fields[modal.ZONE_BLOCK]["initial_option"]["value"] == "Asia/Tokyo"
    assert fields[modal.THEME_BLOCK]["initial_option"]["value"] != modal.ANY_THEME
    assert fields[modal.CHANNEL_BLOCK]["initial_conversation"] == CHANNEL_ID


async def test_a_members_forged_click_opens_nothing(
    fake_slack: FakeSlack, platform: SlackPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    await slash(fake_slack, platform, "daily on 07:45 Asia/Tokyo", user_id=ADMIN_ID)
    status = (await slash(fake_slack, platform, "daily status", user_id=ADMIN_ID)).body

    await interact(platform, home_action_payload(modal.CHANGE, CHANNEL_ID, user_id=MEMBER_ID))
    response_id = await click(fake_slack, platform, status, modal.CHANGE, user_id=MEMBER_ID)
    refused = (await fake_slack.next_response(response_id)).body
    await platform.handlers.drain()

    assert fake_slack.calls("views.open") == []
    assert "Only admins" in refused["text"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_used_trigger_is_refused_by_slack_and_the_status_comes_as_text(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    first = await open_form(fake_slack, platform, ADMIN_ID)
    trigger = first.args["trigger_id"]

    reply = (await slash(fake_slack, platform, "daily", user_id=ADMIN_ID, trigger_id=trigger)).body

    assert (await fake_slack.next_call("views.open")).response["error"] == "exchanged_trigger_id"
    assert reply["blocks"][-1]["elements"][0]["action_id"] == modal.CHANGE


async def test_the_form_and_the_home_tab_work_over_socket_mode(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings
) -> None:
    socket = slack_settings(
        settings, slack_app_token=Secret(APP_TOKEN), slack_signing_secret=Secret("")
    )
    async with running_platform(fake_slack, core, socket):
        command = slash_command_payload(
            "daily", response_url=fake_slack.response_url(), user_id=ADMIN_ID
        )
        await fake_slack.push_envelope("slash_commands", command)
        view = (await fake_slack.next_call("views.open")).response["view"]

        typed = block_suggestion_payload(view, modal.ZONE_BLOCK, modal.ZONE, "berl")
        sent = await fake_slack.push_envelope("interactive", typed, accepts_response_payload=True)
        options = (await fake_slack.wait_for_ack(sent))["payload"]["options"]
        assert options[0]["value"] == "Europe/Berlin"

        values = form_values(CHANNEL_ID, "25:00", "Europe/Berlin", modal.ANY_THEME)
        forged = view_submission_payload(view, values, user_id=ADMIN_ID)
        sent = await fake_slack.push_envelope("interactive", forged, accepts_response_payload=True)
        assert (await fake_slack.wait_for_ack(sent))["payload"]["response_action"] == "errors"

        await fake_slack.push_envelope("events_api", app_home_opened_event(ADMIN_ID))
        home = await fake_slack.next_call("views.publish")
        assert home.response["ok"] and home.args["user_id"] == ADMIN_ID
    assert await core.daily.store.schedules() == []


async def test_opening_and_saving_the_form_are_counted_as_daily_commands(
    core: Core, fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]
    await submit(platform, view, form_values(CHANNEL_ID, "09:00", "UTC", modal.ANY_THEME))
    await fake_slack.next_call("chat.postEphemeral")
    await platform.handlers.drain()

    await core.stats.flush()
    assert core.stats.store is not None
    found = await core.stats.store.tallies(date(2000, 1, 1), Scope("slack", TEAM_ID))
    daily = sum(t.total for t in found if t.metric == COMMAND and t.name == "daily")
    assert daily == 2
