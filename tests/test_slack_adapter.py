"""The real AsyncApp served by SlackPlatform on loopback, driven as Slack drives it (HTTP mode)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.slack.app import SlackPlatform, create_platform
from bot.adapters.slack.blocks import CANCEL, ERROR_TEXT, POST, SHUFFLE
from bot.config import ConfigError, Secret, Settings, load_settings
from bot.quotes.models import Quote
from bot.quotes.service import QuoteService
from bot.runtime import Core, open_core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    BOT_TOKEN,
    CHANNEL_ID,
    MEMBER_ID,
    SIGNING_SECRET,
    FakeSlack,
    signed_headers,
    slash_command_form,
)
from tests.support.slack import (
    click,
    events_url,
    post_signed,
    post_signed_reply,
    quote_id_of,
    running_platform,
    slack_settings,
    slash,
)

FORM = "application/x-www-form-urlencoded"
HOSTILE_CORPUS = """\
[[themes]]
slug = "pings"
title = "Pings & <!here>"

[[quotes]]
id = "mass-ping"
theme = "pings"
topic = "On <!channel>"
source = "<@U123>"
kind = "quote"
text = "Hello <!channel> and <@U123>: 1 < 2 && 3 > 2"
"""


@pytest.fixture
async def platform(core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings):
    async with running_platform(fake_slack, core, slack_settings(settings)) as started:
        yield started


async def dpo_ids(service: QuoteService) -> set[str]:
    return {q.id for q in await service.quotes("dpo-vs-ppo")}


# -- the slash command ----------------------------------------------------------------------------


async def test_the_answer_rides_in_the_ack_and_nothing_goes_to_the_response_url(
    fake_slack: FakeSlack, platform: SlackPlatform, service: QuoteService
) -> None:
    body = slash_command_form("dpo", response_url=fake_slack.response_url("r1"))
    status, acked = await post_signed_reply(events_url(platform), body, FORM)
    assert status == 200

    preview = json.loads(acked)  # one request: the ack is the answer
    assert preview["response_type"] == "ephemeral"
    assert quote_id_of(preview) in await dpo_ids(service)
    assert "DPO vs. PPO: The Optimizer Debate" in preview["blocks"][1]["elements"][0]["text"]
    assert preview["text"]  # the plain-text fallback
    actions = preview["blocks"][-1]["elements"]
    assert [(b["action_id"], b["text"]["text"]) for b in actions] == [
        (POST, "Post"),
        (SHUFFLE, "Another"),
        (CANCEL, "Cancel"),
    ]
    await platform.handlers.drain()
    assert len(fake_slack.responses.items) == 0  # no second request to the response_url


async def test_an_admin_check_through_users_info_is_inside_the_answer(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    reply = (await slash(fake_slack, platform, "stats", user_id=ADMIN_ID)).body
    assert reply["response_type"] == "ephemeral"
    assert "Only admins" not in reply["text"]  # an admin: the stats, not a refusal
    assert [c.args["user"] for c in fake_slack.calls("users.info")] == [ADMIN_ID]
    await platform.handlers.drain()
    assert fake_slack.responses.items == []


@pytest.mark.parametrize(
    ("secret", "age_seconds"),
    [("not-the-secret", 0), (SIGNING_SECRET, 600)],
    ids=["bad-signature", "ten-minutes-old"],
)
async def test_unverifiable_command_gets_401_and_no_answer(
    fake_slack: FakeSlack, platform: SlackPlatform, secret: str, age_seconds: int
) -> None:
    body = slash_command_form("dpo", response_url=fake_slack.response_url())
    headers = signed_headers(secret, body, timestamp=int(time.time()) - age_seconds)

    assert await post_signed(events_url(platform), body, headers) == 401
    # Verification runs before bolt schedules any listener, so nothing can answer later.
    assert fake_slack.responses.items == []
    assert [call.method for call in fake_slack.api_calls.items] == ["auth.test"]  # start()


class GatedService(QuoteService):
    """The real service whose random picks wait until the test opens the gate."""

    gate: asyncio.Event

    async def random_quote(self, theme: str | None = None, exclude: str | None = None):  # type: ignore[no-untyped-def]
        await self.gate.wait()
        return await super().random_quote(theme, exclude)


class BrokenService(QuoteService):
    async def random_quote(self, theme: str | None = None, exclude: str | None = None) -> Quote:
        raise RuntimeError("the database went away")


async def test_the_daily_form_is_the_answer_and_the_ack_is_empty(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    body = slash_command_form("daily", response_url=fake_slack.response_url(), user_id=ADMIN_ID)
    assert await post_signed_reply(events_url(platform), body, FORM) == (200, "")
    opened = await fake_slack.next_call("views.open")
    assert opened.response["ok"] is True
    await platform.handlers.drain()
    assert fake_slack.responses.items == []


async def test_an_answer_late_for_the_ack_goes_to_the_response_url_once(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings
) -> None:
    gated = GatedService(service.conn, service.themes(), random.Random(5))
    gated.gate = asyncio.Event()
    async with running_platform(
        fake_slack, replace(core, quotes=gated), slack_settings(settings)
    ) as started:
        over = asyncio.Event()
        started.handlers.budget = over.wait  # the budget ends when the test says
        body = slash_command_form("dpo", response_url=fake_slack.response_url("slow"))
        sending = asyncio.create_task(post_signed_reply(events_url(started), body, FORM))
        over.set()  # while the query waits
        assert await sending == (200, "")  # acked empty: Slack stops waiting
        assert fake_slack.responses.items == []
        gated.gate.set()
        assert (await fake_slack.next_response("slow")).body["response_type"] == "ephemeral"
        await started.handlers.drain()
    assert len(fake_slack.responses.items) == 1


async def test_a_users_info_slower_than_the_budget_falls_back_to_the_response_url(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    over = asyncio.Event()
    platform.handlers.budget = over.wait
    fake_slack.hangs.hang("POST", "/api/users.info")  # held until released
    body = slash_command_form("stats", response_url=fake_slack.response_url("held"))
    sending = asyncio.create_task(post_signed_reply(events_url(platform), body, FORM))
    over.set()
    assert await sending == (200, "")
    fake_slack.hangs.release()
    late = (await fake_slack.next_response("held")).body
    assert late["response_type"] == "ephemeral"
    assert late["text"] == "Only admins can see the stats."  # what users.info said, late
    assert [c.args["user"] for c in fake_slack.calls("users.info")] == [MEMBER_ID]
    await platform.handlers.drain()
    assert len(fake_slack.responses.items) == 1


async def test_a_failure_becomes_a_short_ephemeral_and_a_log_line(
    core: Core,
    fake_slack: FakeSlack,
    service: QuoteService,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = BrokenService(service.conn, service.themes(), random.Random(5))
    async with running_platform(
        fake_slack, replace(core, quotes=broken), slack_settings(settings)
    ) as started:
        reply = (await slash(fake_slack, started, "dpo")).body
        await started.handlers.drain()

    assert reply == {"text": ERROR_TEXT, "response_type": "ephemeral"}  # in the ack
    assert fake_slack.responses.items == []
    failures = [
        r
        for r in caplog.records
        if r.name == "bot.adapters.slack.listeners" and r.levelno >= logging.ERROR
    ]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text


@pytest.mark.parametrize(
    ("text", "title"),
    [("search rubicon", "match"), ("help", "Nathan Lambert"), ("zzzqqq", "No quote matches")],
)
async def test_short_lists_and_text_are_ephemeral_without_buttons(
    fake_slack: FakeSlack, platform: SlackPlatform, text: str, title: str
) -> None:
    reply = (await slash(fake_slack, platform, text)).body
    assert reply["response_type"] == "ephemeral"
    assert title in reply["blocks"][0]["text"]["text"]
    assert all(block["type"] != "actions" for block in reply["blocks"])


# -- the preview's buttons -----------------------------------------------------------------------


async def test_post_publishes_the_quote_and_removes_the_preview(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    preview = (await slash(fake_slack, platform, "dpo")).body
    clicked = await click(fake_slack, platform, preview, POST)

    posted = await fake_slack.next_call("chat.postMessage")
    assert posted.args["channel"] == CHANNEL_ID
    assert posted.response["ok"] is True
    assert posted.args["blocks"][0] == preview["blocks"][0]  # the same quote, as previewed
    assert posted.args["blocks"][-1]["elements"][0]["text"] == "Shared by u0member with /lambert"
    assert all(block["type"] != "actions" for block in posted.args["blocks"])
    assert (await fake_slack.next_response(clicked)).body["delete_original"] is True


async def test_post_where_the_bot_is_not_a_member_goes_through_the_response_url(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    fake_slack.fail_channel(CHANNEL_ID, "not_in_channel")
    preview = (await slash(fake_slack, platform, "dpo")).body
    clicked = await click(fake_slack, platform, preview, POST)

    public = (await fake_slack.next_response(clicked)).body
    assert public["response_type"] == "in_channel"
    assert public["blocks"][0] == preview["blocks"][0]
    assert (await fake_slack.next_response(clicked)).body["delete_original"] is True


async def test_shuffle_replaces_the_preview_with_a_different_quote(
    fake_slack: FakeSlack, platform: SlackPlatform, service: QuoteService
) -> None:
    preview = (await slash(fake_slack, platform, "dpo")).body
    clicked = await click(fake_slack, platform, preview, SHUFFLE)

    shuffled = (await fake_slack.next_response(clicked)).body
    assert shuffled["replace_original"] is True
    assert quote_id_of(shuffled) != quote_id_of(preview)
    assert quote_id_of(shuffled) in await dpo_ids(service)
    assert [b["type"] for b in shuffled["blocks"]][-1] == "actions"
    assert fake_slack.calls("chat.postMessage") == []


async def test_cancel_deletes_the_preview(fake_slack: FakeSlack, platform: SlackPlatform) -> None:
    preview = (await slash(fake_slack, platform, "dpo")).body
    clicked = await click(fake_slack, platform, preview, CANCEL)

    assert (await fake_slack.next_response(clicked)).body["delete_original"] is True
    assert fake_slack.calls("chat.postMessage") == []


# -- nothing we send pings anyone ----------------------------------------------------------------


async def test_a_quote_with_mentions_is_sent_escaped(fake_slack: FakeSlack, tmp_path: Path) -> None:
    corpus = tmp_path / "hostile.toml"
    corpus.write_text(HOSTILE_CORPUS, encoding="utf-8")
    settings = load_settings({}, db_path=tmp_path / "hostile.db", corpus_path=corpus)
    async with (
        open_core(settings) as core,
        running_platform(fake_slack, core, slack_settings(settings)) as started,
    ):
        preview = (await slash(fake_slack, started, "")).body
        await click(fake_slack, started, preview, POST)
        posted = (await fake_slack.next_call("chat.postMessage")).args

    for sent in (preview, posted):
        raw = json.dumps(sent, ensure_ascii=False)
        assert "<!channel>" not in raw and "<@U123>" not in raw and "<!here>" not in raw
        assert "&lt;!channel&gt;" in sent["blocks"][0]["text"]["text"]
        assert "1 &lt; 2 &amp;&amp; 3 &gt; 2" in sent["text"]


async def test_user_text_echoed_back_is_escaped(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    reply = (await slash(fake_slack, platform, "id <!channel>")).body
    raw = json.dumps(reply)
    assert "<!channel>" not in raw
    assert "&lt;!channel&gt;" in raw


# -- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"slack_bot_token": Secret("")}, "SLACK_BOT_TOKEN"),
        ({"slack_signing_secret": Secret("")}, "SLACK_SIGNING_SECRET"),
    ],
)
async def test_a_platform_without_a_way_in_is_a_config_error(
    core: Core, service: QuoteService, settings: Settings, overrides: dict[str, Any], missing: str
) -> None:
    with pytest.raises(ConfigError, match=missing):
        create_platform(slack_settings(settings, **overrides), core)


async def test_close_stops_listening(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings
) -> None:
    async with running_platform(fake_slack, core, slack_settings(settings)) as started:
        url = events_url(started)
    body = slash_command_form("dpo", response_url=fake_slack.response_url())
    with pytest.raises(aiohttp.ClientConnectionError):
        await post_signed(url, body)
