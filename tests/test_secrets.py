"""Tokens stay secret on every error path: logs at DEBUG, tracebacks, chat replies, reprs.

Every token is a canary containing CANARY; the logs are formatted by the production setup
(bot.logs.setup_logging at DEBUG), in process and in real `lambert` subprocesses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import re
import signal
import sqlite3
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client, open_discord_poster
from bot.adapters.slack.app import create_platform
from bot.adapters.slack.blocks import ERROR_TEXT as SLACK_ERROR
from bot.adapters.slack.poster import open_slack_poster
from bot.chat.replies import ERROR_TEXT as DISCORD_ERROR
from bot.config import ConfigError, Secret, Settings, load_settings
from bot.daily.schedules import Schedule
from bot.logs import setup_logging
from bot.runtime import Core, open_core
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    TEAM_ID,
    signed_headers,
    slash_command_form,
    slash_command_payload,
)
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.shim.processes import Lambert, lambert_env, wait_for
from tests.support.paths import CORPUS

# Some tests start real `lambert` processes: none may outlive its test.
pytestmark = pytest.mark.usefixtures("no_process_left_behind")

TOKENS = {
    "DISCORD_TOKEN": "MTE0.CANARY-discord-token.do-not-print",
    "SLACK_BOT_TOKEN": "xoxb-CANARY-slack-bot-token-do-not-print",
    "SLACK_APP_TOKEN": "xapp-1-CANARY-slack-app-token-do-not-print",
    "SLACK_SIGNING_SECRET": "CANARY-slack-signing-secret-do-not-print",
}
# An Authorization header printed with its value (a redacted one is fine).
HEADER = re.compile(r"(?i)authorization\W{0,4}(bearer|bot)\s+(?!\[redacted\])\S+")
NOISY = ("discord", "slack_bolt", "slack_sdk", "aiohttp.access", "aiosqlite")


def leaks(text: str) -> list[str]:
    """What in `text` gives a token away: a whole value, a fragment, or a header."""
    found = [name for name, value in TOKENS.items() if value in text]
    if "CANARY" in text:
        found.append("a fragment of a token")
    found += [f"header: {m.group(0)[:40]}" for m in HEADER.finditer(text)]
    return found


def traceback_text(exc: BaseException) -> str:
    """The exception as a traceback prints it, and every exception chained to it, suppressed
    context included (a later `raise ... from exc` could bring it back)."""
    text, seen = "".join(traceback.format_exception(exc)), exc
    while seen is not None:
        text += repr(seen) + str(seen)
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    return text


@pytest.fixture
def canary_settings(db_path: Path) -> Settings:
    settings = load_settings({**TOKENS, "LOG_LEVEL": "DEBUG"}, db_path=db_path, corpus_path=CORPUS)
    return dataclasses.replace(settings, slack_port=0)  # HTTP mode on any free port


@pytest.fixture
async def canary_core(canary_settings: Settings) -> AsyncIterator[Core]:
    async with open_core(canary_settings) as core:
        yield core


@pytest.fixture
def debug_log(canary_settings: Settings) -> Iterator[io.StringIO]:
    """The production logging setup at DEBUG, into a string; the test's own setup after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in NOISY}
    stream = io.StringIO()
    setup_logging("DEBUG", canary_settings.secrets, stream=stream)
    try:
        yield stream
    finally:
        handlers, level, levels = saved
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


def break_database(db: Path) -> None:
    """From outside, as a disk fault or a bad migration would: every quote read now fails."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        conn.execute("DROP TABLE quotes")
        conn.commit()
    finally:
        conn.close()


def chat_of_discord(fake: FakeDiscord) -> str:
    bodies = [c.body for c in fake.callbacks]
    bodies += [m.body for m in fake.channel_messages + fake.webhook_messages]
    return json.dumps(bodies)


def chat_of_slack(fake: RemoteSlack) -> str:
    bodies = [r.body for r in fake.responses.items] + [c.args for c in fake.api_calls.items]
    return json.dumps([*bodies, *(c.authorization for c in fake.api_calls.items)])


def test_settings_never_show_a_token(canary_settings: Settings) -> None:
    shown = [
        repr(canary_settings),
        str(canary_settings),
        f"{canary_settings}",
        repr(vars(canary_settings)),
        repr(dataclasses.asdict(canary_settings)),
        repr(dataclasses.replace(canary_settings)),
    ]
    assert [leaks(text) for text in shown] == [[]] * len(shown)
    assert set(canary_settings.secrets) == set(TOKENS.values())  # all known to the redactor


async def test_rejected_tokens_stop_start_up_without_showing_them(
    fake_discord: FakeDiscord,
    slack_fake: RemoteSlack,
    canary_settings: Settings,
    canary_core: Core,
    debug_log: io.StringIO,
) -> None:
    fake_discord.fail("GET", "/users/@me", 401, {"code": 0, "message": "401: Unauthorized"})
    slack_fake.rejected_tokens.add(TOKENS["SLACK_BOT_TOKEN"])
    errors = []
    with pytest.raises(ConfigError, match="rejected DISCORD_TOKEN") as rejected:
        async with open_discord_poster(canary_settings, io.StringIO()):
            pass
    errors.append(rejected.value)
    discord_platform = DiscordPlatform(canary_settings, canary_core, client=make_client())
    with pytest.raises(ConfigError, match="rejected DISCORD_TOKEN") as rejected:
        await discord_platform.start()
    await discord_platform.close()
    errors.append(rejected.value)
    with pytest.raises(ConfigError, match="invalid_auth") as rejected:
        async with open_slack_poster(canary_settings, io.StringIO()):
            pass
    errors.append(rejected.value)
    slack_platform = create_platform(canary_settings, canary_core, host="127.0.0.1")
    with pytest.raises(ConfigError, match="invalid_auth") as rejected:
        await slack_platform.start()
    await slack_platform.close()
    errors.append(rejected.value)

    assert [leaks(traceback_text(exc)) for exc in errors] == [[]] * len(errors)
    assert leaks(debug_log.getvalue()) == []


async def test_handler_failures_show_no_token_in_logs_or_chat(
    fake_discord: FakeDiscord,
    slack_fake: RemoteSlack,
    canary_settings: Settings,
    canary_core: Core,
    db_path: Path,
    debug_log: io.StringIO,
) -> None:
    discord_platform = DiscordPlatform(
        canary_settings, canary_core, client=make_client(guild_ready_timeout=0.05)
    )
    # HTTP mode, so requests are signed with the signing secret.
    http_mode = dataclasses.replace(canary_settings, slack_app_token=Secret(""))
    slack_platform = create_platform(http_mode, canary_core, host="127.0.0.1")
    await slack_platform.start()
    url = f"http://127.0.0.1:{slack_platform.port}/slack/events"
    secret = TOKENS["SLACK_SIGNING_SECRET"]

    async def slack_command(text: str, response: str, signing: str = secret) -> int:
        body = slash_command_form(text, response_url=slack_fake.response_url(response))
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=signed_headers(signing, body)) as answer,
        ):
            acks[response] = await answer.text()
            return answer.status

    acks: dict[str, str] = {}  # response id -> the ack's body (the answer, when in time)

    token = TOKENS["DISCORD_TOKEN"]
    try:
        async with fake_discord.run_client(discord_platform.client, token, allow_errors=True):
            await fake_discord.send_interaction(fake_discord.slash_command("lambert"))
            assert (await fake_discord.next_callback()).embeds
            assert await slack_command("dpo", "fine") == 200
            assert (await slack_fake.answer_after(acks["fine"], "fine"))["blocks"]
            assert await slack_command("dpo", "forged", signing="not-the-secret") == 401

            break_database(db_path)
            slash = fake_discord.slash_command("lambert", {"query": "dpo"})
            await fake_discord.send_interaction(slash)
            typed = fake_discord.autocomplete("lambert", {"query": "reward"})
            await fake_discord.send_interaction(typed)
            await fake_discord.settle()
            assert await slack_command("dpo", "broken") == 200
            failed = await slack_fake.answer_after(acks["broken"], "broken")
    finally:
        await slack_platform.close()

    assert any(c.content == DISCORD_ERROR for c in fake_discord.callbacks)
    assert failed["text"] == SLACK_ERROR
    log = debug_log.getvalue()
    assert "Traceback" in log and "no such table: quotes" in log  # the failures were logged
    assert leaks(log) == []
    assert leaks(chat_of_discord(fake_discord)) == []
    assert leaks(chat_of_slack(slack_fake)) == []


async def set_due_schedules(settings: Settings, schedules: list[tuple[str, str]]) -> datetime:
    """Schedules due five minutes ago (in UTC, set an hour ago); returns the instant to tick."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    if now.hour == 0 and now.minute < 10:  # keep "five minutes ago" on today's date
        now += timedelta(minutes=10)
    at = (now - timedelta(minutes=5)).time()
    async with open_core(settings) as core:
        store = core.daily.store
        for platform, channel in schedules:
            since = now - timedelta(hours=1)
            await store.save_schedules(
                [Schedule(platform, channel, at, "UTC", None, True, "test", since)]
            )
    return now


@pytest.mark.slow
async def test_lambert_processes_at_debug_never_print_a_token(canary_settings: Settings) -> None:
    db = canary_settings.db_path
    discord, slack = RemoteDiscord(), RemoteSlack()
    await discord.start()
    try:
        async with slack:
            env = lambert_env(db, discord, slack, **TOKENS, LOG_LEVEL="DEBUG")
            # Failed daily posts on both platforms: gone, forbidden, rate limited, archived.
            discord.fail_channel(discord.channels["quotes"], 403)
            discord.fail_channel(discord.channel_id, 429, retry_after=120.0)
            slack.fail_channel("C0ARCHIVED", "is_archived")
            slack.rate_limit("chat.postMessage", times=1, retry_after=120)
            now = await set_due_schedules(
                canary_settings,
                [
                    ("discord", "999"),
                    ("discord", str(discord.channels["quotes"])),
                    ("discord", str(discord.channel_id)),
                    ("slack", f"{TEAM_ID}/C0ARCHIVED"),
                    ("slack", f"{TEAM_ID}/{CHANNEL_ID}"),
                ],
            )
            tick = Lambert(env, "daily", "tick", "--at", now.isoformat(), "--json")
            await (await tick.start()).finish()
            assert tick.code == 0, tick.err
            report = json.loads(tick.out)
            # The one rate limit hits whichever Slack post comes first; the other may post.
            assert len(report["failed"]) >= 4 and len(report["posted"]) <= 1, tick.out

            serve = await Lambert(env, "serve").start()
            await wait_for(
                lambda: serve.err.count("connected and answering") == 2 or not serve.running,
                "serve to connect",
            )
            assert serve.running, serve.err
            # The failure reasons reach chat: an admin's `/lambert daily status` in that channel.
            status = slash_command_payload(
                "daily status", response_url=slack.response_url("status"), user_id=ADMIN_ID
            )
            status["channel_id"] = "C0ARCHIVED"
            envelope = await slack.push_envelope("slash_commands", status)
            shown = json.dumps(await slack.answer_to(envelope, "status"))
            assert "archived" in shown or "rate limit" in shown, shown

            break_database(db)
            await discord.interact(discord.slash_command("lambert", {"query": "dpo"}))
            envelope = await slack.push_envelope(
                "slash_commands", slash_command_payload("dpo", response_url=slack.response_url("x"))
            )
            assert (await slack.answer_to(envelope, "x"))["text"] == SLACK_ERROR
            await wait_for(lambda: discord.callbacks, "the Discord error reply")
            assert discord.callbacks[-1].content == DISCORD_ERROR
            serve.signal(signal.SIGTERM)
            await serve.finish()
    finally:
        await discord.stop()

    assert serve.code == 0, serve.err
    assert "Traceback" in serve.err and "DEBUG" in serve.err  # DEBUG, with the failures
    for output in (tick.out, tick.err, serve.out, serve.err):
        assert leaks(output) == []
    assert leaks(chat_of_discord(discord)) == []
    assert leaks(chat_of_slack(slack)) == []


async def test_a_rejected_token_stops_serve_without_printing_it(tmp_path: Path) -> None:
    discord, slack = RemoteDiscord(), RemoteSlack()
    await discord.start()
    try:
        async with slack:
            discord.fail("GET", "/users/@me", 401, {"code": 0, "message": "401: Unauthorized"})
            slack.rejected_tokens.add(TOKENS["SLACK_BOT_TOKEN"])
            discord_only = {"DISCORD_TOKEN": TOKENS["DISCORD_TOKEN"], "LOG_LEVEL": "DEBUG"}
            slack_only = {k: v for k, v in TOKENS.items() if k.startswith("SLACK")}
            runs = [
                Lambert(lambert_env(tmp_path / "d.db", discord, slack, **discord_only), "serve"),
                Lambert(
                    lambert_env(tmp_path / "s.db", discord, slack, **slack_only, LOG_LEVEL="DEBUG"),
                    "serve",
                ),
            ]
            for run in runs:
                await run.start()
            began = time.monotonic()
            await asyncio.gather(*(run.finish() for run in runs))
    finally:
        await discord.stop()

    assert time.monotonic() - began < 20
    discord_run, slack_run = runs
    assert discord_run.code == slack_run.code == 2
    assert "Discord rejected DISCORD_TOKEN" in discord_run.err
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in slack_run.err
    for run in runs:
        assert leaks(run.out + run.err) == []
