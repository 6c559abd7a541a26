"""Bad input at every adapter's door: never an exception, always a reply, nothing written.

Hypothesis drives the real adapters (console streams, discord.py over the loopback Discord,
slack-bolt over the loopback Slack) with text shaped like the chat grammar and with garbage.
The database is fingerprinted before and after each example: every request here only reads
(the askers are not admins, so even `daily on ...` is refused).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.adapters.console import QUIT_WORDS, run_console
from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client
from bot.adapters.slack.app import SlackPlatform, create_platform
from bot.adapters.slack.blocks import CANCEL, POST, SHUFFLE
from bot.adapters.slack.blocks import ERROR_TEXT as SLACK_ERROR
from bot.adapters.slack.poster import web_client
from bot.chat.grammar import RequestContext
from bot.chat.replies import ERROR_TEXT as DISCORD_ERROR
from bot.config import Secret, Settings
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    block_actions_payload,
    interactive_form,
    signed_headers,
    slash_command_form,
)
from tests.support.hostile import HOSTILE

EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = (
    "daily_schedules",
    "daily_posts",
    "daily_bag",
    "quotes",
    "themes",
    "theme_aliases",
    "vocabulary",
)

# The grammar's words, and what tends to follow them; then anything at all.
HEADS = [
    "", "/lambert", "/LAMBERT", "help", "themes", "id", "search", "daily", "daily on",
    "daily off", "daily status", "another", "dpo", "PPO", "rlhf", "ai2", "careers",
    "reward hacking", "dpo-simplicity", "quit",
]  # fmt: skip
TAILS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(HOSTILE),
    st.from_regex(r"[0-9]{1,2}:[0-9]{2} [A-Za-z_/]{0,20}", fullmatch=True),
    st.sampled_from(["09:00 Europe/Berlin", "25:99 Mars/Olympus", "dpo", '"', "*", "id"]),
)
GRAMMAR = st.one_of(
    st.builds(lambda head, tail: f"{head} {tail}", st.sampled_from(HEADS), TAILS),
    st.text(max_size=300),
    st.sampled_from(HOSTILE),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
BUTTON_VALUES = st.one_of(
    st.text(max_size=200),
    JSON.map(json.dumps),
    st.builds(lambda r, q: json.dumps({"r": r, "q": q}), GRAMMAR, st.text(max_size=40) | JSON),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),  # deeper than json will go
    st.integers(1000, 5000).map(lambda n: "x" * n),
    st.sampled_from(HOSTILE),
)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors anyone logged: an adapter that catches a crash still logs it here."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def fingerprint(service: QuoteService) -> str:
    """Everything the bot stores, except liveness heartbeats."""
    digest = hashlib.sha256()
    conn = service.conn
    # The shared state's tables exist once something used the state (it opens on first use):
    # until then each reads as empty.
    present = {r[0] for r in await conn.execute_fetchall("SELECT name FROM sqlite_schema")}
    for table in TABLES:
        rows = await conn.execute_fetchall(f"SELECT * FROM {table}") if table in present else []
        digest.update(repr(sorted(repr(tuple(r)) for r in rows)).encode())
    meta = await conn.execute_fetchall("SELECT * FROM meta WHERE key NOT LIKE 'heartbeat:%'")
    digest.update(repr(sorted(tuple(r) for r in meta)).encode())
    return digest.hexdigest()


class Replies(io.StringIO):
    """The console's output stream; each write is one reply (run_console writes them whole)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def expected_replies(lines: list[str]) -> int:
    """What run_console answers: each non-blank line, up to a quit word."""
    count = 0
    for line in lines:
        text = line.strip()
        if text.casefold() in QUIT_WORDS:
            break
        count += bool(text)
    return count


@EXAMPLES
@given(lines=st.lists(GRAMMAR.map(lambda t: t.replace("\n", " ")), min_size=1, max_size=6))
async def test_console_answers_every_line(
    core: Core, service: QuoteService, caplog: pytest.LogCaptureFixture, lines: list[str]
) -> None:
    before = await fingerprint(service)
    out = Replies()
    member = RequestContext(admin=False)
    stdin = io.StringIO("\n".join(lines) + "\n")
    assert await run_console(core, stdin, out, member, interactive=False) == 0
    assert len(out.writes) == expected_replies(lines)
    assert all(w.strip() for w in out.writes)
    assert errors(caplog) == []
    assert await fingerprint(service) == before


# ---- Discord --------------------------------------------------------------------------------


@pytest.fixture
async def discord_fake(
    core: Core, fake_discord: FakeDiscord, settings: Settings, service: QuoteService
) -> AsyncIterator[FakeDiscord]:
    with_token = replace(settings, discord_token=Secret("fake-token"))
    platform = DiscordPlatform(with_token, core, client=make_client(guild_ready_timeout=0.05))
    async with fake_discord.run_client(platform.client) as fake:
        yield fake


async def reply_to(fake: FakeDiscord, payload: dict[str, Any]) -> Any:
    await fake.send_interaction(payload)
    callback = await fake.next_callback()
    assert callback.interaction_id == int(payload["id"])
    return callback


@EXAMPLES
@given(text=GRAMMAR)
async def test_discord_slash_command_always_answers(
    discord_fake: FakeDiscord, service: QuoteService, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    before = await fingerprint(service)
    callback = await reply_to(discord_fake, discord_fake.slash_command("lambert", {"query": text}))
    assert callback.type == 4 and callback.ephemeral
    assert (callback.content or callback.embeds) and callback.content != DISCORD_ERROR
    await discord_fake.settle()
    assert discord_fake.client_errors == [] and discord_fake.unhandled == []
    assert errors(caplog) == []
    assert await fingerprint(service) == before


@EXAMPLES
@given(text=GRAMMAR)
async def test_discord_autocomplete_always_answers_within_limits(
    discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    callback = await reply_to(discord_fake, discord_fake.autocomplete("lambert", {"query": text}))
    assert callback.type == 8
    choices = callback.choices or []
    assert len(choices) <= 25
    assert all(0 < len(c["name"]) <= 100 and 0 < len(c["value"]) <= 100 for c in choices)
    assert discord_fake.client_errors == [] and errors(caplog) == []


@EXAMPLES
@given(custom_id=st.text(min_size=1, max_size=100))
async def test_discord_forged_button_ids_break_nothing(
    discord_fake: FakeDiscord,
    service: QuoteService,
    caplog: pytest.LogCaptureFixture,
    custom_id: str,
) -> None:
    """discord.py answers no component it did not make (Discord then shows "This interaction
    failed"); what matters is that nothing breaks and the bot still answers."""
    before = await fingerprint(service)
    preview = await reply_to(discord_fake, discord_fake.slash_command("lambert", {"query": "dpo"}))
    await discord_fake.send_interaction(discord_fake.component_click(custom_id, preview))
    await discord_fake.settle()
    after = await reply_to(discord_fake, discord_fake.slash_command("lambert"))
    assert after.embeds
    assert discord_fake.client_errors == [] and discord_fake.unhandled == []
    assert errors(caplog) == []
    assert await fingerprint(service) == before


# ---- Slack ----------------------------------------------------------------------------------


@pytest.fixture
async def slack_url(
    core: Core, fake_slack: FakeSlack, settings: Settings, service: QuoteService
) -> AsyncIterator[str]:
    http_mode = replace(
        settings,
        slack_bot_token=Secret(BOT_TOKEN),
        slack_signing_secret=Secret(SIGNING_SECRET),
        slack_port=0,
    )
    client = web_client(http_mode, base_url=fake_slack.api_url)
    platform: SlackPlatform = create_platform(http_mode, core, client=client, host="127.0.0.1")
    await platform.start()
    try:
        yield f"http://127.0.0.1:{platform.port}/slack/events"
    finally:
        await platform.close()


async def post_signed(url: str, body: str) -> int:
    return (await post_signed_reply(url, body))[0]


async def post_signed_reply(url: str, body: str) -> tuple[int, str]:
    """(status, the ack's body)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=signed_headers(SIGNING_SECRET, body)) as response,
    ):
        return response.status, await response.text()


@EXAMPLES
@given(text=GRAMMAR)
async def test_slack_command_text_always_answers(
    fake_slack: FakeSlack,
    slack_url: str,
    service: QuoteService,
    caplog: pytest.LogCaptureFixture,
    text: str,
) -> None:
    before = await fingerprint(service)
    response_id = f"cmd-{time.monotonic_ns()}"
    body = slash_command_form(text, response_url=fake_slack.response_url(response_id))
    status, acked = await post_signed_reply(slack_url, body)
    assert status == 200
    answer = await fake_slack.answer_after(acked, response_id)
    assert answer["response_type"] == "ephemeral" and answer["text"] != SLACK_ERROR
    assert errors(caplog) == []
    assert await fingerprint(service) == before


@EXAMPLES
@given(action=st.sampled_from([POST, SHUFFLE, CANCEL]), value=BUTTON_VALUES)
@example(action=SHUFFLE, value="[" * 1000 + "]" * 1000)  # json.loads: RecursionError
async def test_slack_button_values_always_get_an_answer(
    fake_slack: FakeSlack,
    slack_url: str,
    service: QuoteService,
    caplog: pytest.LogCaptureFixture,
    action: str,
    value: str,
) -> None:
    before = await fingerprint(service)
    response_id = f"act-{time.monotonic_ns()}"
    click = block_actions_payload(action, value, response_url=fake_slack.response_url(response_id))
    assert await post_signed(slack_url, interactive_form(click)) == 200
    answer = (await fake_slack.next_response(response_id)).body
    if action == CANCEL:
        assert answer["delete_original"] is True
    else:
        assert answer.get("text") and answer["text"] != SLACK_ERROR, answer
    assert errors(caplog) == []
    assert await fingerprint(service) == before
