"""Proves the loopback fake Slack drives the real slack-bolt AsyncApp over HTTP and Socket Mode."""

import time

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ERRORS,
    CHANNEL_ID,
    MEMBER_ID,
    OWNER_ID,
    SIGNING_SECRET,
    block_actions_payload,
    interactive_form,
    signed_headers,
    slash_command_form,
    slash_command_payload,
)


@pytest.fixture
def quote_app(slack_app) -> AsyncApp:
    app = slack_app()

    @app.command("/lambert")
    async def lambert(ack, respond, command):
        await ack()
        await respond(text=f"a quote about {command['text']}", response_type="ephemeral")

    @app.action("another_quote")
    async def another_quote(ack, body, client):
        await ack()
        await client.chat_postMessage(
            channel=body["channel"]["id"], text=f"another quote on {body['actions'][0]['value']}"
        )

    return app


async def post(url: str, body: str, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


async def test_signed_slash_command_over_http_reaches_response_url(
    fake_slack, slack_http, quote_app
):
    url = await slack_http(quote_app)
    body = slash_command_form("rlhf", response_url=fake_slack.response_url("r1"))

    assert await post(url, body, signed_headers(SIGNING_SECRET, body)) == 200

    reply = await fake_slack.next_response("r1")
    assert reply.body == {"text": "a quote about rlhf", "response_type": "ephemeral"}
    auth = await fake_slack.next_call("auth.test")
    assert auth.authorization == "Bearer xoxb-(redacted)"


@pytest.mark.parametrize(
    ("secret", "age_seconds"),
    [("not-the-secret", 0), (SIGNING_SECRET, 600)],
    ids=["bad-signature", "ten-minutes-old"],
)
async def test_unverifiable_request_gets_401(
    fake_slack, slack_http, quote_app, secret, age_seconds
):
    url = await slack_http(quote_app)
    body = slash_command_form("rlhf", response_url=fake_slack.response_url())
    headers = signed_headers(secret, body, timestamp=int(time.time()) - age_seconds)

    assert await post(url, body, headers) == 401
    assert fake_slack.api_calls.items == []  # rejected before authorize (auth.test)


async def test_socket_mode_envelope_is_acked_and_responded(fake_slack, slack_socket, quote_app):
    await slack_socket(quote_app)
    payload = slash_command_payload("reasoning", response_url=fake_slack.response_url("r2"))

    envelope_id = await fake_slack.push_envelope("slash_commands", payload)

    assert await fake_slack.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    reply = await fake_slack.next_response("r2")
    assert reply.body["text"] == "a quote about reasoning"
    opened = await fake_slack.next_call("apps.connections.open")
    assert opened.authorization == "Bearer xapp-(redacted)"


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_block_actions_handler_posts_a_message(
    fake_slack, slack_http, slack_socket, quote_app, transport
):
    click = block_actions_payload(
        "another_quote", "open models", response_url=fake_slack.response_url()
    )
    if transport == "http":
        body = interactive_form(click)
        assert (
            await post(await slack_http(quote_app), body, signed_headers(SIGNING_SECRET, body))
            == 200
        )
    else:
        await slack_socket(quote_app)
        envelope_id = await fake_slack.push_envelope("interactive", click)
        assert (await fake_slack.wait_for_ack(envelope_id))["envelope_id"] == envelope_id

    posted = await fake_slack.next_call("chat.postMessage")
    assert posted.args["channel"] == CHANNEL_ID
    assert posted.args["text"] == "another quote on open models"
    assert posted.response["ok"] is True
    assert list(fake_slack.messages) == [(CHANNEL_ID, posted.response["ts"])]


@pytest.mark.parametrize("error", CHANNEL_ERRORS)
async def test_channel_failure_raises_slack_api_error(fake_slack, error):
    fake_slack.fail_channel("C0BROKEN", error)

    with pytest.raises(SlackApiError) as raised:
        await fake_slack.client().chat_postMessage(channel="C0BROKEN", text="hello")

    assert raised.value.response["error"] == error
    assert fake_slack.messages == {}


async def test_rate_limited_post_is_retried_and_posted_once(fake_slack, no_retry_jitter):
    fake_slack.rate_limit("chat.postMessage", times=2, retry_after=0)
    client = fake_slack.client(retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])

    started = time.monotonic()
    response = await client.chat_postMessage(channel=CHANNEL_ID, text="hello")

    assert response["ok"] is True
    assert time.monotonic() - started < 5  # Retry-After 0 is honoured as 0, not a default wait
    assert [call.status for call in fake_slack.calls("chat.postMessage")] == [429, 429, 200]
    assert len(fake_slack.messages) == 1


async def test_rate_limit_without_retry_handler_surfaces(fake_slack):
    fake_slack.rate_limit("chat.postMessage", times=1)

    with pytest.raises(SlackApiError) as raised:
        await fake_slack.client().chat_postMessage(channel=CHANNEL_ID, text="hello")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("user_id", "is_admin", "is_owner"),
    [(MEMBER_ID, False, False), (ADMIN_ID, True, False), (OWNER_ID, True, True)],
)
async def test_users_info_reports_roles(fake_slack, user_id, is_admin, is_owner):
    found = (await fake_slack.client().users_info(user=user_id))["user"]

    assert (found["is_admin"], found["is_owner"]) == (is_admin, is_owner)


async def test_messages_can_be_updated_deleted_and_sent_ephemerally(fake_slack):
    client = fake_slack.client()
    ts = (await client.chat_postMessage(channel=CHANNEL_ID, text="first"))["ts"]

    await client.chat_update(channel=CHANNEL_ID, ts=ts, text="second")
    assert fake_slack.messages[(CHANNEL_ID, ts)]["text"] == "second"
    await client.chat_delete(channel=CHANNEL_ID, ts=ts)
    assert fake_slack.messages == {}
    ephemeral = await client.chat_postEphemeral(channel=CHANNEL_ID, user=MEMBER_ID, text="psst")
    assert ephemeral["message_ts"]
    info = await client.conversations_info(channel=CHANNEL_ID)
    assert info["channel"]["name"] == "general"
