""" "Lambert on this" on Slack: the message shortcut through the real slack-bolt app (HTTP mode)
and the loopback fake. Preview, Another down the ranking, Post in the thread, exactly once."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.slack import blocks as slack_blocks
from bot.adapters.slack.app import SlackPlatform
from bot.chat import on_this
from bot.chat.share import ALREADY_POSTED
from bot.config import Settings
from bot.runtime import Core
from tests.fakes.slack_platform import (
    CHANNEL_ID,
    FakeSlack,
    ResponsePost,
    block_actions_payload,
    interactive_form,
    message_action_payload,
)
from tests.support.slack import (
    button_value,
    events_url,
    post_signed,
    quote_id_of,
    running_platform,
    slack_settings,
)

REPO = Path(__file__).resolve().parents[1]
MESSAGE = "the benchmark numbers look great but users say it got dumber, wobblegong"
TS, PARENT = "1700000000.000100", "1699999999.000001"


@pytest.fixture
async def platform(
    core: Core, fake_slack: FakeSlack, settings: Settings
) -> AsyncIterator[SlackPlatform]:
    # The corpus's vectors first: seconds on a busy machine, longer than the fake waits.
    await on_this.matcher_for(core.quotes)
    async with running_platform(fake_slack, core, slack_settings(settings)) as started:
        yield started


async def shortcut(
    fake: FakeSlack, platform: SlackPlatform, text: str, **fields: Any
) -> ResponsePost:
    """The shortcut on a message reading `text`; what the bot answered on the response_url."""
    rid = f"sc-{time.monotonic_ns()}"
    payload = message_action_payload(
        slack_blocks.ON_THIS, text, response_url=fake.response_url(rid), **fields
    )
    assert await post_signed(events_url(platform), interactive_form(payload)) == 200
    return await fake.next_response(rid)


async def press(
    fake: FakeSlack, platform: SlackPlatform, preview: dict[str, Any], action: str, ts: str
) -> ResponsePost:
    """Click `action` on `preview`, shown to the member as ephemeral message `ts`."""
    rid = f"act-{time.monotonic_ns()}"
    shown = {"type": "message", "ts": ts, "text": "", "blocks": preview["blocks"]}
    payload = block_actions_payload(
        action, button_value(preview, action), response_url=fake.response_url(rid), message=shown
    )
    assert await post_signed(events_url(platform), interactive_form(payload)) == 200
    return await fake.next_response(rid)


async def fits(core: Core, text: str) -> list[str]:
    matcher = await on_this.matcher_for(core.quotes)
    return [q.id for q in await matcher.best(text, on_this.DEPTH)]


def posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.args for c in fake.calls("chat.postMessage") if c.response["ok"]]


async def test_the_preview_shows_the_best_fit_and_another_the_next(
    fake_slack: FakeSlack, platform: SlackPlatform, core: Core
) -> None:
    ranked = await fits(core, MESSAGE)
    preview = (await shortcut(fake_slack, platform, MESSAGE)).body
    assert preview["response_type"] == "ephemeral"
    assert quote_id_of(preview) == ranked[0]
    # The buttons carry the ranked ids and the thread, never the message.
    value = button_value(preview, slack_blocks.ON_THIS_ANOTHER)
    assert json.loads(value) == {"r": ranked, "q": ranked[0], "t": TS}
    assert "benchmark" not in value

    other = (await press(fake_slack, platform, preview, slack_blocks.ON_THIS_ANOTHER, "1.1")).body
    assert other["replace_original"] is True and quote_id_of(other) == ranked[1]
    third = (await press(fake_slack, platform, other, slack_blocks.ON_THIS_ANOTHER, "1.1")).body
    assert quote_id_of(third) == ranked[2]


async def test_post_answers_in_the_thread_once(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    preview = (await shortcut(fake_slack, platform, MESSAGE)).body
    first = await press(
        fake_slack, platform, preview, slack_blocks.ON_THIS_POST, "1700000100.000900"
    )
    second = await press(
        fake_slack, platform, preview, slack_blocks.ON_THIS_POST, "1700000100.000900"
    )
    (posted,) = posts(fake_slack)
    assert (posted["channel"], posted["thread_ts"]) == (CHANNEL_ID, TS)
    assert quote_id_of(preview) in json.dumps(posted["blocks"])
    assert "<@" not in json.dumps(posted["blocks"])  # the sharer is named, never mentioned
    assert first.body["delete_original"] is True
    assert second.body["text"] == ALREADY_POSTED


async def test_a_reply_in_a_thread_is_answered_in_that_thread(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    preview = (await shortcut(fake_slack, platform, MESSAGE, thread_ts=PARENT)).body
    await press(fake_slack, platform, preview, slack_blocks.ON_THIS_POST, "1700000100.000901")
    (posted,) = posts(fake_slack)
    assert posted["thread_ts"] == PARENT


@pytest.mark.parametrize("text", ["", "ok", ":joy: :joy:", "<@U0ADMIN> +1", "<https://x.io>"])
async def test_a_message_with_nothing_to_match_says_so_in_one_line(
    fake_slack: FakeSlack, platform: SlackPlatform, text: str
) -> None:
    answer = (await shortcut(fake_slack, platform, text)).body
    assert answer["text"] == on_this.NOTHING
    assert [b["type"] for b in answer["blocks"]] == ["section"]
    assert posts(fake_slack) == []


async def test_the_message_is_never_logged_or_stored(
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    core: Core,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    preview = (await shortcut(fake_slack, platform, MESSAGE)).body
    await press(fake_slack, platform, preview, slack_blocks.ON_THIS_POST, "1700000100.000902")
    await core.stats.flush()
    # Ours at every level; the libraries' at WARNING and up, where bot/logs.py holds them.
    shown = [r for r in caplog.records if r.name.startswith("bot") or r.levelno >= logging.WARNING]
    assert [r.name for r in shown if "wobblegong" in r.getMessage()] == []
    for path in settings.db_path.parent.glob(settings.db_path.name + "*"):
        assert b"wobblegong" not in path.read_bytes(), path.name


def test_markup_is_dropped_and_a_links_label_kept() -> None:
    text = "<@U0ADMIN> <!here> see :eyes: <https://x.io/dpo|the DPO notes> &amp; <#C1|general> <https://y.io>"
    assert slack_blocks.plain_text(text).split() == ["see", "the", "DPO", "notes", "&"]


def test_the_manifest_has_the_message_shortcut_and_no_new_scope() -> None:
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    (item,) = manifest["features"]["shortcuts"]
    assert (item["type"], item["callback_id"]) == ("message", slack_blocks.ON_THIS)
    assert item["name"] == "Lambert on this" and len(item["description"]) <= 80
    # The payload carries the message: no history scope, no message events.
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert not [s for s in scopes if s.endswith(":history")]
    assert "message.channels" not in manifest["settings"]["event_subscriptions"]["bot_events"]
