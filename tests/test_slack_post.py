"""The Slack DailyPoster: posts through the production web client, maps Slack's errors to ours."""

from __future__ import annotations

import io
import socket
from datetime import date
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.slack_response import SlackResponse

from bot.adapters.slack.poster import (
    MAX_INLINE_WAIT,
    SlackPoster,
    open_slack_poster,
    post_error,
    web_client,
)
from bot.config import ConfigError, Secret, Settings
from bot.ports import AmbiguousPostError, PermanentPostError, PostError, TransientPostError
from bot.quotes.models import Kind, Quote
from tests.fakes.slack_platform import BOT_TOKEN, CHANNEL_ERRORS, CHANNEL_ID, FakeSlack
from tests.support.slack import Sleeps

QUOTE = Quote(
    id="dpo-simplicity",
    text="DPO slots into existing training code & <!here> stays text.",
    kind=Kind.QUOTE,
    theme="dpo-vs-ppo",
    theme_title="DPO vs. PPO: The Optimizer Debate",
    topic="On DPO's simplicity",
    source="Interconnects",
)
DAY = date(2025, 1, 1)


@pytest.fixture
def poster(fake_slack: FakeSlack, sleeps: Sleeps) -> SlackPoster:
    bot_settings = Settings(slack_bot_token=Secret(BOT_TOKEN))
    return SlackPoster(web_client(bot_settings, base_url=fake_slack.api_url, sleep=sleeps))


def response(data: dict[str, Any], status: int = 200, **headers: str) -> SlackResponse:
    """A real SlackResponse as the client builds one from Slack's answer."""
    return SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,
        headers=headers,
        status_code=status,
    )


async def test_a_daily_post_returns_the_message_ts(fake_slack: FakeSlack, poster: SlackPoster):
    ts = await poster.post_daily(CHANNEL_ID, QUOTE, DAY)

    call = await fake_slack.next_call("chat.postMessage")
    assert ts == call.response["ts"]
    assert call.args["channel"] == CHANNEL_ID
    assert "&lt;!here&gt;" in call.args["blocks"][0]["text"]["text"]
    assert call.args["blocks"][-1]["elements"][0]["text"].startswith("Daily quote")
    assert poster.platform == "slack"


@pytest.mark.parametrize("error", CHANNEL_ERRORS)
async def test_a_channel_that_cannot_take_posts_is_permanent(
    fake_slack: FakeSlack, poster: SlackPoster, error: str
):
    fake_slack.fail_channel(CHANNEL_ID, error)

    with pytest.raises(PermanentPostError) as raised:
        await poster.post_daily(CHANNEL_ID, QUOTE, DAY)

    assert error in raised.value.reason
    assert "channel" in raised.value.reason


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        ("account_inactive", 200, PermanentPostError),
        ("invalid_auth", 200, PermanentPostError),
        ("token_revoked", 200, PermanentPostError),
        ("missing_scope", 200, PermanentPostError),
        ("restricted_action", 200, PermanentPostError),
        # "It's possible some aspect of the operation succeeded" (Slack's words): unknown.
        ("internal_error", 200, AmbiguousPostError),
        ("fatal_error", 200, AmbiguousPostError),
        ("service_unavailable", 503, AmbiguousPostError),
        ("something_new", 200, TransientPostError),
        ("request_timeout", 200, TransientPostError),
    ],
)
def test_error_table(error: str, status: int, kind: type[PostError]):
    mapped = post_error(response({"ok": False, "error": error}, status))
    assert type(mapped) is kind
    assert error in mapped.reason
    assert getattr(mapped, "resend_within", None) is None  # Slack cannot dedupe a resend


def test_an_edges_html_5xx_is_ambiguous():
    mapped = post_error(response("<html>503 Service Unavailable</html>", 503))  # type: ignore[arg-type]
    assert isinstance(mapped, AmbiguousPostError)
    assert "503" in mapped.reason


def test_a_rate_limit_carries_retry_after():
    mapped = post_error(
        response({"ok": False, "error": "ratelimited"}, 429, **{"Retry-After": "7"})
    )
    assert isinstance(mapped, TransientPostError)
    assert mapped.retry_after == 7


async def test_a_429_with_retry_after_1_is_retried_and_posts_once(
    fake_slack: FakeSlack, poster: SlackPoster, sleeps: Sleeps
):
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)

    await poster.post_daily(CHANNEL_ID, QUOTE, DAY)

    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 200]
    assert sleeps.asked == [1.0]  # waited what Slack asked, on the injected clock
    assert len(fake_slack.messages) == 1


async def test_rate_limited_past_the_retries_is_transient(
    fake_slack: FakeSlack, poster: SlackPoster, sleeps: Sleeps
):
    fake_slack.rate_limit("chat.postMessage", times=5, retry_after=2)

    with pytest.raises(TransientPostError) as raised:
        await poster.post_daily(CHANNEL_ID, QUOTE, DAY)

    assert raised.value.retry_after == 2
    assert sleeps.asked == [2.0, 2.0]
    assert fake_slack.messages == {}


async def test_a_long_retry_after_is_left_to_the_scheduler(
    fake_slack: FakeSlack, poster: SlackPoster, sleeps: Sleeps
):
    wait = int(MAX_INLINE_WAIT) + 30
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=wait)

    with pytest.raises(TransientPostError) as raised:
        await poster.post_daily(CHANNEL_ID, QUOTE, DAY)

    assert raised.value.retry_after == wait
    assert sleeps.asked == []


async def test_an_unreachable_slack_is_transient():
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # No retry handlers: the connection retry's backoff would sleep on the real clock.
    client = AsyncWebClient(
        token=BOT_TOKEN, base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[]
    )

    with pytest.raises(TransientPostError, match="could not reach Slack"):
        await SlackPoster(client).post_daily(CHANNEL_ID, QUOTE, DAY)


async def test_open_slack_poster_checks_the_token_first(fake_slack: FakeSlack, settings: Settings):
    async with open_slack_poster(settings, io.StringIO(), client=fake_slack.client()) as poster:
        assert await poster.post_daily(CHANNEL_ID, QUOTE, DAY)
    assert [c.method for c in fake_slack.api_calls.items] == ["auth.test", "chat.postMessage"]

    with pytest.raises(ConfigError, match="not_authed"):
        async with open_slack_poster(settings, io.StringIO(), client=fake_slack.client(token="")):
            pass


async def test_a_dropped_read_is_asked_again_once_and_a_dropped_post_never(
    fake_slack: FakeSlack, poster: SlackPoster, sleeps: Sleeps
):
    fake_slack.lose_answers("auth.test", "drop")
    assert await poster.client.auth_test()  # answered the second time
    assert len(fake_slack.calls("auth.test")) == 2 and len(sleeps.asked) == 1

    fake_slack.lose_answers("chat.postMessage", "drop")
    with pytest.raises(AmbiguousPostError):
        await poster.post_daily(CHANNEL_ID, QUOTE, DAY)
    assert len(fake_slack.calls("chat.postMessage")) == 1  # it may be stored: never twice
