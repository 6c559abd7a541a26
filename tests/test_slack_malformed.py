"""Signed but malformed Slack payloads get a 200 or 400 and at most one log line: never a 500,
never a traceback (bot/adapters/slack/payload.py reads them, bolt's error handler catches the
rest). The real bolt app over HTTP, signed as Slack signs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.adapters.slack import modal
from bot.adapters.slack.app import SlackPlatform
from bot.adapters.slack.blocks import POST, SHUFFLE
from bot.adapters.slack.payload import MAX_DEPTH, read_json
from bot.config import Settings
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    FakeSlack,
    block_actions_payload,
    interactive_form,
    view_submission_payload,
)
from tests.support.slack import (
    events_url,
    form_values,
    home_opened,
    open_form,
    post_signed_reply,
    running_platform,
    slack_settings,
)

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def platform(
    core: Core, fake_slack: FakeSlack, settings: Settings
) -> AsyncIterator[SlackPlatform]:
    async with running_platform(fake_slack, core, slack_settings(settings)) as started:
        yield started


def submission(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    payload = view_submission_payload(view, form_values(CHANNEL_ID, "09:00", "UTC", "any"))
    payload["view"].update(changes)
    payload["user"]["id"] = ADMIN_ID
    return payload


def click_without_channel(fake: FakeSlack, quote_id: str) -> dict[str, Any]:
    payload = block_actions_payload(POST, quote_id, response_url=fake.response_url())
    del payload["channel"], payload["container"]
    return payload


def shuffle_click(fake: FakeSlack, value: str) -> dict[str, Any]:
    return block_actions_payload(SHUFFLE, value, response_url=fake.response_url())


Case = Callable[[FakeSlack, dict[str, Any], str], dict[str, Any]]  # fake, view, a quote id
CASES: list[tuple[str, Case]] = [
    ("state.values a list", lambda fake, view, quote: submission(view, state={"values": [1, 2]})),
    ("state a string", lambda fake, view, quote: submission(view, state="x")),
    (
        "metadata deeply nested",
        lambda fake, view, quote: submission(view, private_metadata="[" * 50_000),
    ),
    ("metadata a list", lambda fake, view, quote: submission(view, private_metadata="[1]")),
    ("a Post click with no channel", lambda fake, view, quote: click_without_channel(fake, quote)),
    ("view a string", lambda fake, view, quote: {**submission(view), "view": "x"}),
    ("user a list", lambda fake, view, quote: {**submission(view), "user": []}),
    ("a Shuffle value nested", lambda fake, view, quote: shuffle_click(fake, "[" * 50_000)),
    ("a Shuffle value a list", lambda fake, view, quote: shuffle_click(fake, '[{"r": 1}]')),
    (
        "a Shuffle value of wrong types",
        lambda fake, view, quote: shuffle_click(fake, '{"r": [], "q": {}}'),
    ),
]


@pytest.mark.parametrize(("name", "case"), CASES, ids=[c[0] for c in CASES])
async def test_a_signed_malformed_payload_gets_200_or_400_and_one_line(
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    core: Core,
    caplog: pytest.LogCaptureFixture,
    name: str,
    case: Case,
) -> None:
    view = (await open_form(fake_slack, platform, ADMIN_ID)).response["view"]
    quote = await core.quotes.random_quote()
    assert quote is not None
    caplog.set_level(logging.WARNING)

    body = interactive_form(case(fake_slack, view, quote.id))
    status, _text = await post_signed_reply(events_url(platform), body, FORM)
    await platform.handlers.drain()

    assert status in (200, 400), name
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) <= 1, [r.getMessage() for r in logged]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in logged)


async def test_a_failing_views_publish_is_one_warning_line(
    fake_slack: FakeSlack, platform: SlackPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    fake_slack.lose_answers("views.publish", "503")

    await home_opened(platform, ADMIN_ID)
    await platform.handlers.drain()

    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in logged] == [logging.WARNING], [r.getMessage() for r in logged]
    assert logged[0].exc_info is None and "Home tab" in logged[0].getMessage()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"a": 1}', {"a": 1}),
        ("[" * 50_000, None),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), None),
        ("x" * 10, None),
        ('"' + "a" * 5000 + '"', None),
        ('{"a": [{"b": 1}]}', {"a": [{"b": 1}]}),
    ],
)
def test_read_json_refuses_what_is_too_deep_too_long_or_not_json(text: str, found: Any) -> None:
    assert read_json(text) == found


def test_modal_metadata_is_read_through_the_helper(service: QuoteService) -> None:
    meta = json.dumps({"origin": CHANNEL_ID, "home": True})
    empty = modal.read_submission({"private_metadata": meta, "state": {"values": []}}, service)
    assert isinstance(empty, dict) and len(empty) == 5  # every field asked for, no traceback
    values = form_values(CHANNEL_ID, "09:00", "UTC", modal.ANY_THEME)
    form = modal.read_submission({"private_metadata": meta, "state": {"values": values}}, service)
    assert isinstance(form, modal.Submission)
    assert (form.origin, form.from_home, form.channel) == (CHANNEL_ID, True, CHANNEL_ID)
