"""Builders for tests that drive lambert's Slack adapter, or a bare bolt app, against FakeSlack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import time as wall_time
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import modal
from bot.adapters.slack.app import SlackPlatform, create_platform
from bot.adapters.slack.blocks import POST
from bot.adapters.slack.poster import web_client
from bot.config import Secret, Settings
from bot.daily.schedules import DAY_NAMES
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    APP_TOKEN,
    BOT_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    TEAM_ID,
    ApiCall,
    FakeSlack,
    ResponsePost,
    app_home_opened_event,
    block_actions_payload,
    interactive_form,
    signed_headers,
    slash_command_form,
)

# slack_sdk sends even loopback traffic through HTTPS_PROXY/HTTP_PROXY (it ignores NO_PROXY).
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


class Sleeps:
    """The web client's injected sleep: records what Slack asked for, waits for nothing."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(0)


def slack_settings(settings: Settings, **overrides: Any) -> Settings:
    """Test settings for HTTP mode on a free port (override slack_app_token for Socket Mode)."""
    values: dict[str, Any] = {
        "slack_bot_token": Secret(BOT_TOKEN),
        "slack_signing_secret": Secret(SIGNING_SECRET),
        "slack_port": 0,
    }
    return replace(settings, **(values | overrides))


@contextlib.asynccontextmanager
async def running_platform(
    fake: FakeSlack,
    core: Core,
    settings: Settings,
    sleeps: Sleeps | None = None,
) -> AsyncIterator[SlackPlatform]:
    """create_platform() with the production web client aimed at the fake; started, then closed."""
    client = web_client(settings, base_url=fake.api_url, sleep=sleeps or Sleeps())
    platform = create_platform(settings, core, client=client, host="127.0.0.1")
    await platform.start()
    try:
        yield platform
    finally:
        await platform.close()


def events_url(platform: SlackPlatform) -> str:
    return f"http://127.0.0.1:{platform.port}/slack/events"


async def post_signed(url: str, body: str, headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers or signed_headers(SIGNING_SECRET, body)) as r,
    ):
        return r.status


async def post_signed_reply(url: str, body: str, content_type: str) -> tuple[int, str]:
    """POST a signed body; (status, the body of bolt's answer: the ack's payload, if any)."""
    headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


async def interact(platform: SlackPlatform, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Send an interaction (view_submission, block_suggestion, block_actions) over HTTP; the
    JSON bolt acked with (None for a bare ack)."""
    form = "application/x-www-form-urlencoded"
    status, text = await post_signed_reply(events_url(platform), interactive_form(payload), form)
    assert status == 200, text
    return json.loads(text) if text else None


async def home_opened(
    platform: SlackPlatform,
    user_id: str,
    tab: str = "home",
    team_id: str = TEAM_ID,
    org_wide: bool = False,
) -> None:
    """Slack's app_home_opened event for `user_id` of workspace `team_id`, over HTTP."""
    event = app_home_opened_event(user_id, tab=tab, team_id=team_id, org_wide=org_wide)
    body = json.dumps(event)
    status, text = await post_signed_reply(events_url(platform), body, "application/json")
    assert status == 200, text


async def open_form(
    fake: FakeSlack, platform: SlackPlatform, user_id: str, **fields: Any
) -> ApiCall:
    """`/lambert daily` from `user_id`; the views.open call it made (the view Slack returned
    is `call.response["view"]`)."""
    body = slash_command_form("daily", response_url=fake.response_url(), user_id=user_id, **fields)
    assert await post_signed(events_url(platform), body) == 200
    return await fake.next_call("views.open")


def form_values(
    channel: str | None,
    time_text: str | None,
    zone: str | None,
    theme: str | None,
    days: Sequence[str] = DAY_NAMES,
) -> dict[str, dict[str, Any]]:
    """The daily form's `state.values` as Slack submits them (None: the field left empty;
    `days`: the values of the day checkboxes left checked, every day as the form opens)."""

    def chosen(value: str | None) -> dict[str, Any] | None:
        return (
            None
            if value is None
            else {"text": {"type": "plain_text", "text": value}, "value": value}
        )

    return {
        modal.CHANNEL_BLOCK: {
            modal.CHANNEL: {"type": "conversations_select", "selected_conversation": channel}
        },
        modal.TIME_BLOCK: {modal.TIME: {"type": "timepicker", "selected_time": time_text}},
        modal.DAYS_BLOCK: {
            modal.DAYS: {"type": "checkboxes", "selected_options": [chosen(d) for d in days]}
        },
        modal.ZONE_BLOCK: {
            modal.ZONE: {"type": "external_select", "selected_option": chosen(zone)}
        },
        modal.THEME_BLOCK: {
            modal.THEME: {"type": "static_select", "selected_option": chosen(theme)}
        },
    }


async def slash(fake: FakeSlack, platform: SlackPlatform, text: str, **fields: Any) -> ResponsePost:
    """`/lambert <text>` as Slack sends it; returns what the bot posted to the response_url."""
    response_id = f"cmd-{time.monotonic_ns()}"
    body = slash_command_form(text, response_url=fake.response_url(response_id), **fields)
    assert await post_signed(events_url(platform), body) == 200
    return await fake.next_response(response_id)


async def click(
    fake: FakeSlack, platform: SlackPlatform, preview: dict[str, Any], action_id: str, **fields: Any
) -> str:
    """Click a button of `preview` (an ephemeral the bot sent); returns the click's response id."""
    response_id = f"act-{time.monotonic_ns()}"
    payload = block_actions_payload(
        action_id,
        button_value(preview, action_id),
        response_url=fake.response_url(response_id),
        **fields,
    )
    body = interactive_form(payload)
    assert await post_signed(events_url(platform), body) == 200
    return response_id


def button_value(message: dict[str, Any], action_id: str) -> str:
    """The value of the button `action_id` in `message`'s actions blocks."""
    return str(
        next(
            e["value"]
            for block in message["blocks"]
            if block["type"] == "actions"
            for e in block["elements"]
            if e["action_id"] == action_id
        )
    )


def post_click(
    fake: FakeSlack, preview: dict[str, Any], message_ts: str = "1700000100.000200"
) -> dict[str, Any]:
    """A click on Post of the ephemeral preview Slack shows as message `message_ts`."""
    message = {"type": "message", "ts": message_ts, "text": "", "blocks": preview["blocks"]}
    return block_actions_payload(
        POST, button_value(preview, POST), response_url=fake.response_url(), message=message
    )


def quote_id_of(message: dict[str, Any]) -> str:
    context = message["blocks"][1]["elements"][0]["text"]
    return str(context.rsplit("id: ", 1)[1])


def bolt_app(fake: FakeSlack, *, client: AsyncWebClient | None = None, **kwargs: Any) -> AsyncApp:
    """A real AsyncApp wired to `fake`. The token lives on the client: passing both only logs a
    warning. AsyncApp has no token_verification_enabled; it calls auth.test on the first request."""
    kwargs.setdefault("signing_secret", SIGNING_SECRET)
    return AsyncApp(client=client or fake.client(), **kwargs)


@contextlib.asynccontextmanager
async def serve_http(app: AsyncApp, *, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve `app` over HTTP on 127.0.0.1 (random port); yields the URL to POST events to."""
    runner = web.AppRunner(app.web_app(path=path))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def socket_mode(
    app: AsyncApp, *, app_token: str = APP_TOKEN, client: AsyncWebClient | None = None
) -> AsyncIterator[AsyncSocketModeHandler]:
    """Connect `app` in Socket Mode. The handler asks apps.connections.open through the web
    client's base_url (default: app.client), so a client pointed at the fake is all it needs."""
    handler = AsyncSocketModeHandler(app, app_token=app_token, web_client=client or app.client)
    try:
        await handler.connect_async()
        yield handler
    finally:
        # Close before the fake stops: a server-side close would make the client reconnect.
        await handler.close_async()


def oauth_settings(settings: Settings, **overrides: Any) -> Settings:
    """Test settings for many workspaces: HTTP mode, the app's client id and secret, no
    bot token."""
    values: dict[str, Any] = {
        "slack_bot_token": Secret(""),
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": Secret(CLIENT_SECRET),
    }
    return slack_settings(settings, **(values | overrides))


def base_url(platform: SlackPlatform) -> str:
    return f"http://127.0.0.1:{platform.port}"


async def install(fake: FakeSlack, platform: SlackPlatform, team: str) -> str:
    """An admin of `team` installs the app through bolt's OAuth flow; the page bolt answers
    the redirect with. The state cookie is Secure, which aiohttp will not send to plain
    http://127.0.0.1 by itself: it is copied into a Cookie header by hand, as a browser on
    https would send it."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base_url(platform)}/slack/install") as page:
            assert page.status == 200, await page.text()
            html = await page.text()
            cookie = page.headers["Set-Cookie"]
        assert "Secure" in cookie
        name, _, rest = cookie.partition("=")
        state = rest.split(";", 1)[0]
        assert f"state={state}" in html, "the Add to Slack link carries the state"
        code = fake.approve(team)
        url = f"{base_url(platform)}/slack/oauth_redirect?code={code}&state={state}"
        async with session.get(url, headers={"Cookie": f"{name}={state}"}) as done:
            text = await done.text()
            assert done.status == 200, text
            return text


async def send_event(platform: SlackPlatform, body: dict[str, Any]) -> None:
    """An Events API callback, signed, over HTTP; returns once the work it started is done
    (listeners ack first and work in tasks of their own)."""
    status, text = await post_signed_reply(
        events_url(platform), json.dumps(body), "application/json"
    )
    assert status == 200, text
    await platform.handlers.drain()


async def turn_on_at_nine(core: Core, *channels: str) -> None:
    """Daily quotes at 09:00 Berlin time in each of `channels` (the core's names), by an admin."""
    for channel in channels:
        await core.daily.turn_on("slack", channel, wall_time(9), "Europe/Berlin", None, ADMIN_ID)


def posts_by_token(fake: FakeSlack) -> dict[str | None, ApiCall]:
    """The chat.postMessage calls so far, by the token that sent each (its name in the fake)."""
    return {call.bearer: call for call in fake.calls("chat.postMessage")}
