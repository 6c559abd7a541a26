"""The same AsyncApp through Socket Mode: SlackPlatform connects over a loopback websocket."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.slack.app import SlackPlatform
from bot.adapters.slack.blocks import POST, SHUFFLE
from bot.config import Secret, Settings
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.slack_platform import (
    APP_TOKEN,
    CHANNEL_ID,
    FakeSlack,
    block_actions_payload,
    slash_command_payload,
)
from tests.support.slack import quote_id_of, running_platform, slack_settings


@pytest.fixture
async def platform(core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings):
    # No signing secret and no port: Socket Mode needs neither.
    socket_settings = slack_settings(
        settings, slack_app_token=Secret(APP_TOKEN), slack_signing_secret=Secret("")
    )
    async with running_platform(fake_slack, core, socket_settings) as started:
        yield started


async def test_the_answer_rides_in_the_envelopes_ack(
    fake_slack: FakeSlack, platform: SlackPlatform, service: QuoteService
) -> None:
    assert platform.port is None  # nothing listens for HTTP in Socket Mode
    payload = slash_command_payload("dpo", response_url=fake_slack.response_url("s1"))

    envelope_id = await fake_slack.push_envelope("slash_commands", payload)

    ack = await fake_slack.wait_for_ack(envelope_id)
    assert set(ack) == {"envelope_id", "payload"}
    preview = ack["payload"]
    assert preview["response_type"] == "ephemeral"
    assert quote_id_of(preview) in {q.id for q in await service.quotes("dpo-vs-ppo")}
    opened = await fake_slack.next_call("apps.connections.open")
    assert opened.authorization == "Bearer xapp-(redacted)"
    await platform.handlers.drain()
    assert fake_slack.responses.items == []  # one message over the socket, none over HTTP


async def test_a_late_answer_acks_the_envelope_empty_then_goes_to_the_response_url(
    fake_slack: FakeSlack, platform: SlackPlatform
) -> None:
    over = asyncio.Event()
    platform.handlers.budget = over.wait
    fake_slack.hangs.hang("POST", "/api/users.info")  # the admin check, held
    payload = slash_command_payload("stats", response_url=fake_slack.response_url("s5"))
    envelope_id = await fake_slack.push_envelope("slash_commands", payload)
    over.set()

    assert await fake_slack.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    fake_slack.hangs.release()
    late = (await fake_slack.next_response("s5")).body
    assert (late["text"], late["response_type"]) == ("Only admins can see the stats.", "ephemeral")
    await platform.handlers.drain()
    assert len(fake_slack.responses.items) == 1


async def test_buttons_work_over_the_socket(fake_slack: FakeSlack, platform: SlackPlatform) -> None:
    payload = slash_command_payload("dpo", response_url=fake_slack.response_url("s2"))
    envelope = await fake_slack.push_envelope("slash_commands", payload)
    preview = (await fake_slack.wait_for_ack(envelope))["payload"]
    shown = quote_id_of(preview)
    shuffle = block_actions_payload(
        SHUFFLE,
        preview["blocks"][-1]["elements"][1]["value"],
        response_url=fake_slack.response_url("s3"),
    )
    envelope_id = await fake_slack.push_envelope("interactive", shuffle)
    assert (await fake_slack.wait_for_ack(envelope_id))["envelope_id"] == envelope_id
    assert quote_id_of((await fake_slack.next_response("s3")).body) != shown

    post = block_actions_payload(POST, shown, response_url=fake_slack.response_url("s4"))
    await fake_slack.push_envelope("interactive", post)
    posted = await fake_slack.next_call("chat.postMessage")
    assert posted.args["channel"] == CHANNEL_ID
    assert quote_id_of(posted.args) == shown


async def test_a_start_with_the_token_in_the_environment_logs_no_library_warning(
    core: Core,
    fake_slack: FakeSlack,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """bolt warns about SLACK_BOT_TOKEN beside a client; a warning at start is a bug."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    socket_settings = slack_settings(
        settings, slack_app_token=Secret(APP_TOKEN), slack_signing_secret=Secret("")
    )
    with caplog.at_level("DEBUG"):
        async with running_platform(fake_slack, core, socket_settings):
            pass
    foreign = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelname in ("WARNING", "ERROR", "CRITICAL") and not r.name.startswith("bot")
    ]
    assert foreign == []
