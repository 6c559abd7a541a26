"""One post per preview: Post clicked twice, or a click Slack replays, posts once.

The real discord.py client and the real slack-bolt app (HTTP mode) answer clicks from the
loopback fakes; the preview is claimed in the database before anything is posted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client
from bot.adapters.slack.app import SlackPlatform
from bot.adapters.slack.blocks import error_message
from bot.chat.share import ALREADY_POSTED, MAYBE_POSTED, POSTED
from bot.config import Secret, Settings
from bot.previews.store import KEEP
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import (
    CHANNEL_ID,
    SIGNING_SECRET,
    FakeSlack,
    interactive_form,
    signed_headers,
)
from tests.support.discord import post_button
from tests.support.slack import (
    events_url,
    post_click,
    post_signed,
    running_platform,
    slack_settings,
    slash,
)

SLACK_ERROR = error_message()["text"]

# -- Discord ---------------------------------------------------------------------------------------


@pytest.fixture
def discord_platform(settings: Settings, core: Core) -> DiscordPlatform:
    settings = Settings(**{**vars(settings), "discord_token": Secret("fake-token")})
    return DiscordPlatform(settings, core, client=make_client(guild_ready_timeout=0.05))


@pytest.fixture
async def fake(discord_platform: DiscordPlatform, run_client: Any) -> AsyncIterator[FakeDiscord]:
    async with run_client(discord_platform.client) as fake:
        yield fake


async def test_discord_post_clicked_twice_posts_once(fake: FakeDiscord, service) -> None:
    await fake.send_interaction(fake.slash_command("lambert", {"query": "careers"}))
    preview = await fake.next_callback()
    post = post_button(preview)

    # The second click arrives while the first is being handled, before the buttons grey out.
    await fake.send_interaction(fake.component_click(post, preview))
    await fake.send_interaction(fake.component_click(post, preview), settle_first=False)
    await fake.settle()

    assert len(fake.channel_messages) == 1
    answers = sorted(((c.type, c.ephemeral, c.content) for c in fake.callbacks[1:]), key=str)
    # The second click says what it knows: posted if the first click had finished, else that
    # the first is not confirmed yet. Either way it posts nothing.
    second = next(a for a in answers if a[0] == 4)
    assert second[:2] == (4, True) and second[2] in (ALREADY_POSTED, MAYBE_POSTED)
    assert sorted(a for a in answers if a[0] != 4) == [(7, False, None)]
    notes = [m.content for m in fake.webhook_messages if m.kind == "edit"]
    assert notes == [POSTED]
    posts = [r for r in fake.requests if r.path.endswith("/messages") and r.method == "POST"]
    assert len(posts) == 1 and posts[0].json["enforce_nonce"] is True
    assert len(posts[0].json["nonce"]) <= 25


# -- Slack -----------------------------------------------------------------------------------------


@pytest.fixture
async def slack_platform(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings
) -> AsyncIterator[SlackPlatform]:
    async with running_platform(fake_slack, core, slack_settings(settings)) as started:
        yield started


def posted(fake_slack: FakeSlack) -> list[str]:
    return [c.args["channel"] for c in fake_slack.calls("chat.postMessage") if c.response["ok"]]


async def test_slack_replaying_one_signed_click_posts_once(
    fake_slack: FakeSlack, slack_platform: SlackPlatform
) -> None:
    preview = (await slash(fake_slack, slack_platform, "careers")).body
    body = interactive_form(post_click(fake_slack, preview, "1700000100.000200"))
    headers = signed_headers(SIGNING_SECRET, body)  # the very same request, twice

    assert await post_signed(events_url(slack_platform), body, headers) == 200
    first = await fake_slack.next_response()
    assert await post_signed(events_url(slack_platform), body, headers) == 200
    second = await fake_slack.next_response()

    assert posted(fake_slack) == [CHANNEL_ID]
    assert first.body["delete_original"] is True
    assert second.body["text"] == "Already posted."
    assert second.body["response_type"] == "ephemeral"


async def test_slack_post_clicked_twice_posts_once_and_another_preview_still_posts(
    fake_slack: FakeSlack, slack_platform: SlackPlatform
) -> None:
    preview = (await slash(fake_slack, slack_platform, "careers")).body
    for _ in range(2):  # two clicks: each its own action_ts and trigger_id, one preview
        body = interactive_form(post_click(fake_slack, preview, "1700000100.000300"))
        assert await post_signed(events_url(slack_platform), body) == 200
        await fake_slack.next_response()
    assert posted(fake_slack) == [CHANNEL_ID]

    other = (await slash(fake_slack, slack_platform, "careers")).body
    body = interactive_form(post_click(fake_slack, other, "1700000100.000400"))
    assert await post_signed(events_url(slack_platform), body) == 200
    await fake_slack.next_response()
    assert posted(fake_slack) == [CHANNEL_ID, CHANNEL_ID]


async def test_a_post_slack_refused_can_be_clicked_again(
    fake_slack: FakeSlack, slack_platform: SlackPlatform
) -> None:
    preview = (await slash(fake_slack, slack_platform, "careers")).body
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=60)  # too long to wait here
    body = interactive_form(post_click(fake_slack, preview, "1700000100.000500"))
    assert await post_signed(events_url(slack_platform), body) == 200
    assert (await fake_slack.next_response()).body["text"] == SLACK_ERROR
    assert posted(fake_slack) == []

    body = interactive_form(post_click(fake_slack, preview, "1700000100.000500"))
    assert await post_signed(events_url(slack_platform), body) == 200
    await fake_slack.next_response()
    assert posted(fake_slack) == [CHANNEL_ID]


async def test_a_slack_post_whose_answer_was_lost_is_not_called_posted_nor_sent_again(
    fake_slack: FakeSlack, slack_platform: SlackPlatform
) -> None:
    """Slack stored the message but its answer never came: nobody can say it was posted, so a
    click again says it may be in the channel, and sends nothing (Slack has no idempotency
    key that would make a second chat.postMessage safe)."""
    preview = (await slash(fake_slack, slack_platform, "careers")).body
    fake_slack.lose_answers("chat.postMessage", "drop")
    body = interactive_form(post_click(fake_slack, preview, "1700000100.000600"))
    assert await post_signed(events_url(slack_platform), body) == 200
    assert (await fake_slack.next_response()).body["text"] == SLACK_ERROR

    body = interactive_form(post_click(fake_slack, preview, "1700000100.000600"))
    assert await post_signed(events_url(slack_platform), body) == 200
    again = (await fake_slack.next_response()).body

    assert again["text"] == MAYBE_POSTED and again["response_type"] == "ephemeral"
    assert len(fake_slack.calls("chat.postMessage")) == 1
    assert len(fake_slack.messages) == 1  # the one Slack stored before the answer was lost


# -- the store -------------------------------------------------------------------------------------


async def test_a_claim_is_taken_once_released_on_failure_and_forgotten_after_a_week(
    core: Core,
) -> None:
    previews, now = core.previews, datetime(2025, 6, 2, 9, tzinfo=UTC)
    assert await previews.claim("slack:T:C:U:1.2", "slack", "C", now)
    assert not await previews.claim("slack:T:C:U:1.2", "slack", "C", now)
    await previews.release("slack:T:C:U:1.2")
    assert await previews.claim("slack:T:C:U:1.2", "slack", "C", now)
    await previews.record_posted("slack:T:C:U:1.2", "1.3")
    await previews.release("slack:T:C:U:1.2")  # posted: never released
    assert not await previews.claim("slack:T:C:U:1.2", "slack", "C", now + KEEP)
    assert await previews.claim("slack:T:C:U:1.2", "slack", "C", now + KEEP + timedelta(1))
