"""`lambert serve` while a platform cannot be reached or rejects its token: the others serve
and post meanwhile, the unreachable one is retried (one log line per attempt), a rejected
token stops everything at once with one line. In process against the loopback fakes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.serving import serve as serving
from tests.fakes.slack_platform import APP_TOKEN, BOT_TOKEN, CHANNEL_ID, slash_command_payload
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.support.serving import daily_rows, due_now, settings_for, until

# Attempts a few milliseconds apart: the backoff's shape is tested on its own, below.
FAST = serving.Backoff(first=0.005, longest=0.02, jitter=lambda: 0.0)
PATIENCE = 15.0


def attempts(caplog: pytest.LogCaptureFixture, platform: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "bot.serving.serve"
        and r.getMessage().startswith(f"{platform}: cannot connect")
    ]


def connections(caplog: pytest.LogCaptureFixture) -> int:
    return sum("connected and answering" in r.getMessage() for r in caplog.records)


def assert_no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    noisy = [r for r in caplog.records if r.exc_info or "\n" in r.getMessage()]
    assert noisy == [], [f"{r.name}: {r.getMessage()}" for r in noisy]


@pytest.mark.parametrize("backoff_cap", [1.0, 60.0])
def test_backoff_doubles_from_one_second_to_its_cap_with_jitter(backoff_cap: float) -> None:
    ceiling = serving.Backoff(first=1.0, longest=backoff_cap, jitter=lambda: 1.0)
    floor = serving.Backoff(first=1.0, longest=backoff_cap, jitter=lambda: 0.0)
    expected = [min(2.0**n, backoff_cap) for n in range(10)]
    assert [ceiling.delay(n + 1) for n in range(10)] == expected
    assert [floor.delay(n + 1) for n in range(10)] == [e / 2 for e in expected]
    assert serving.Backoff().delay(10_000) <= 60.0  # no overflow however long it fails


async def test_socket_mode_is_retried_while_discord_serves_and_posts(
    discord_fake: RemoteDiscord,
    slack_fake: RemoteSlack,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(db_path)
    await due_now(settings, ("discord", str(discord_fake.channel_id)), ("slack", CHANNEL_ID))
    slack_fake.fail_connections_open(503)
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop, backoff=FAST))
    try:
        # Discord connects and posts while Slack keeps failing; Slack's day is left unclaimed.
        await until(lambda: discord_fake.posts and len(attempts(caplog, "slack")) >= 3, "", task)
        assert ("slack", CHANNEL_ID) not in daily_rows(db_path)
        slack_fake.fail_connections_open(None)
        await until(lambda: slack_fake.posts, "the Slack post once connected", task)
        envelope = await slack_fake.push_envelope(
            "slash_commands",
            slash_command_payload("rlhf", response_url=slack_fake.response_url("cmd")),
        )
        assert (await slack_fake.answer_to(envelope, "cmd"))["blocks"]
    finally:
        stop.set()
    assert await asyncio.wait_for(task, PATIENCE) == 0
    tried = attempts(caplog, "slack")
    assert "HTTP 503" in tried[0].getMessage() and "attempt 1" in tried[0].getMessage()
    assert_no_tracebacks(caplog)
    assert {k[0]: v[0] for k, v in daily_rows(db_path).items()} == {
        "discord": "posted",
        "slack": "posted",
    }


async def test_discord_gateway_503_is_retried_while_slack_serves_and_posts(
    discord_fake: RemoteDiscord,
    slack_fake: RemoteSlack,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(db_path)
    await due_now(settings, ("discord", str(discord_fake.channel_id)), ("slack", CHANNEL_ID))
    discord_fake.refuse_gateway(503)
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop, backoff=FAST))
    try:
        await until(lambda: slack_fake.posts and len(attempts(caplog, "discord")) >= 3, "", task)
        assert ("discord", str(discord_fake.channel_id)) not in daily_rows(db_path)
        discord_fake.refuse_gateway(None)
        await until(lambda: discord_fake.posts, "the Discord post once connected", task)
    finally:
        stop.set()
    assert await asyncio.wait_for(task, PATIENCE) == 0
    assert "503" in attempts(caplog, "discord")[0].getMessage()
    assert_no_tracebacks(caplog)


async def test_a_dropped_discord_session_is_resumed_not_started_afresh(
    discord_fake: RemoteDiscord, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A blip: the socket drops and the first reconnect is refused. discord.py's own reconnect
    RESUMEs the session (op 6, no second IDENTIFY), and events after it still arrive."""
    caplog.set_level(logging.INFO)
    settings = settings_for(db_path, slack=False)
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop, backoff=FAST))
    try:
        await until(lambda: connections(caplog) == 1, "the first connection", task)
        (identify,) = [f for f in discord_fake.gateway_frames if f["op"] == 2]
        discord_fake.refuse_gateway(503)
        await discord_fake.drop_gateway(4000)
        await until(lambda: discord_fake.gateway_refusals >= 1, "a refused reconnect", task)
        discord_fake.refuse_gateway(None)
        await until(lambda: any(f["op"] == 6 for f in discord_fake.gateway_frames), "", task)
        await discord_fake.interact(discord_fake.slash_command("lambert", {"query": "dpo"}))
        assert (await discord_fake.next_callback()).embeds
    finally:
        stop.set()
    assert await asyncio.wait_for(task, PATIENCE) == 0
    frames = discord_fake.gateway_frames
    assert [f for f in frames if f["op"] == 2] == [identify]  # no session started afresh
    (resume,) = [f["d"] for f in frames if f["op"] == 6]
    assert resume["session_id"] == discord_fake.ready_payload(shard=[0, 1])["session_id"]
    assert connections(caplog) == 1 and attempts(caplog, "discord") == []
    assert_no_tracebacks(caplog)


async def test_a_discord_connection_closed_for_good_is_started_again(
    discord_fake: RemoteDiscord, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(db_path, slack=False)
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop, backoff=FAST))
    try:
        await until(lambda: connections(caplog) == 1, "the first connection", task)
        discord_fake.refuse_gateway(503)
        await discord_fake.drop_gateway(4011)  # a close discord.py does not resume
        await until(lambda: len(attempts(caplog, "discord")) >= 2, "reconnect attempts", task)
        discord_fake.refuse_gateway(None)
        await until(lambda: connections(caplog) == 2, "the second connection", task)
        await discord_fake.interact(discord_fake.slash_command("lambert", {"query": "dpo"}))
        assert (await discord_fake.next_callback()).embeds
    finally:
        stop.set()
    assert await asyncio.wait_for(task, PATIENCE) == 0
    assert_no_tracebacks(caplog)


async def test_session_starts_are_logged_and_never_overdrawn(
    discord_fake: RemoteDiscord, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    discord_fake.session_starts_remaining = 0
    discord_fake.session_reset_after = 3_600_000  # an hour, in milliseconds
    stop = asyncio.Event()
    task = asyncio.create_task(
        serving.serve(settings_for(db_path, slack=False), stop, backoff=FAST)
    )
    try:
        await until(lambda: len(attempts(caplog, "discord")) >= 2, "refused attempts", task)
        assert not any(f["op"] == 2 for f in discord_fake.gateway_frames)
        discord_fake.session_starts_remaining = 5
        await until(lambda: connections(caplog) == 1, "the connection once allowed", task)
    finally:
        stop.set()
    assert await asyncio.wait_for(task, PATIENCE) == 0
    budget = [r.getMessage() for r in caplog.records if "session starts left" in r.getMessage()]
    assert budget[0].startswith(
        "discord: 0 of 1000 session starts left today; the count resets at "
    )
    assert budget[-1].startswith("discord: 5 of 1000 session starts left today")
    refused = attempts(caplog, "discord")[0].getMessage()
    assert "Discord allows 0 more session starts until " in refused
    assert "this process needs 1 (one per shard)" in refused
    assert_no_tracebacks(caplog)


@pytest.mark.parametrize(
    ("fault", "variable"),
    [
        ("slack-app", "SLACK_APP_TOKEN"),
        ("slack-bot", "SLACK_BOT_TOKEN"),
        ("discord", "DISCORD_TOKEN"),
    ],
)
async def test_a_rejected_token_stops_serve_at_once_naming_the_variable(
    discord_fake: RemoteDiscord,
    slack_fake: RemoteSlack,
    db_path: Path,
    fault: str,
    variable: str,
) -> None:
    if fault == "slack-app":
        slack_fake.rejected_tokens.add(APP_TOKEN)
    elif fault == "slack-bot":
        slack_fake.rejected_tokens.add(BOT_TOKEN)
    else:
        discord_fake.fail("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
    with pytest.raises(ConfigError) as refused:
        await asyncio.wait_for(serving.serve(settings_for(db_path), backoff=FAST), PATIENCE)
    message = str(refused.value)
    assert variable in message and "\n" not in message


async def test_a_token_the_gateway_refuses_later_stops_serve_naming_discord_token(
    discord_fake: RemoteDiscord, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(
        serving.serve(settings_for(db_path, slack=False), asyncio.Event(), backoff=FAST)
    )
    await until(lambda: connections(caplog) == 1, "the first connection", task)
    await discord_fake.drop_gateway(4004)  # Authentication failed: the token was reset
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await asyncio.wait_for(task, PATIENCE)
    assert attempts(caplog, "discord") == []
