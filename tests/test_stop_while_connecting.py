"""Real `lambert serve` processes that cannot connect: SIGTERM and SIGINT still end them within
the stop timeout, a rejected token or a taken port ends them at once with one line."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.slack_platform import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.shim.fake_endpoints import DISCORD_URL, SLACK_URL
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.shim.processes import Lambert, lambert_env, wait_for

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
    pytest.mark.usefixtures("no_process_left_behind"),
]

# What `docker stop` gives before SIGKILL; serve with nothing in flight must end well inside it.
STOP_TIMEOUT = 10.0
SLACK = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
DISCORD = {"DISCORD_TOKEN": "MTE0.fake-discord-token"}


def dead_url() -> str:
    """An address where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[RemoteDiscord, RemoteSlack]]:
    discord = RemoteDiscord()
    await discord.start()
    try:
        async with RemoteSlack() as slack:
            yield discord, slack
    finally:
        await discord.stop()


def one_line_per_attempt(err: str, platform: str) -> None:
    assert "Traceback" not in err, err
    attempts = [line for line in err.splitlines() if f"{platform}: cannot connect" in line]
    assert attempts, err
    assert all(" WARNING " in line for line in attempts)


@pytest.mark.parametrize(
    ("case", "sig"),
    [
        ("apps.connections.open 503", signal.SIGTERM),
        ("Slack refuses connections", signal.SIGTERM),
        ("Discord gateway 503", signal.SIGTERM),
        ("Discord refuses connections", signal.SIGINT),
    ],
)
async def test_a_stop_ends_serve_within_its_timeout_while_a_platform_cannot_connect(
    fakes: tuple[RemoteDiscord, RemoteSlack], tmp_path: Path, case: str, sig: signal.Signals
) -> None:
    discord, slack = fakes
    platform = "slack" if "Slack" in case or "apps" in case else "discord"
    env = lambert_env(
        tmp_path / "lambert.db", discord, slack, **(SLACK if platform == "slack" else DISCORD)
    )
    if case == "apps.connections.open 503":
        slack.fail_connections_open(503)
    elif case == "Slack refuses connections":
        env[SLACK_URL] = dead_url()
    elif case == "Discord gateway 503":
        discord.refuse_gateway(503)
    else:
        env[DISCORD_URL] = dead_url()
    serve = await Lambert(env, "serve").start()
    await wait_for(
        lambda: f"{platform}: cannot connect (attempt 2" in serve.err or not serve.running,
        "a second connection attempt",
    )
    assert serve.running, serve.err
    signalled = time.monotonic()
    serve.signal(sig)
    await serve.finish()
    took = time.monotonic() - signalled
    assert serve.code == 0, serve.err
    assert took < STOP_TIMEOUT, f"{took:.1f} s"
    assert "stopped cleanly" in serve.err
    one_line_per_attempt(serve.err, platform)
    print(f"{case}: {sig.name} ended serve in {took:.2f} s")  # for the record (-s)


@pytest.mark.parametrize("platform", ["slack", "discord"])
async def test_sigterm_cancels_a_connection_attempt_that_hangs(
    fakes: tuple[RemoteDiscord, RemoteSlack], tmp_path: Path, platform: str
) -> None:
    """The platform accepts the connection and never answers: serve is stopped mid-attempt."""
    discord, slack = fakes
    seen: list[asyncio.StreamReader] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(reader)
        await reader.read()  # until the client hangs up

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    env = lambert_env(
        tmp_path / "lambert.db", discord, slack, **(SLACK if platform == "slack" else DISCORD)
    )
    env[SLACK_URL if platform == "slack" else DISCORD_URL] = url
    try:
        serve = await Lambert(env, "serve").start()
        await wait_for(lambda: seen or not serve.running, "the connection attempt")
        assert serve.running, serve.err
        signalled = time.monotonic()
        serve.signal(signal.SIGTERM)
        await serve.finish()
        took = time.monotonic() - signalled
    finally:
        server.close()
    assert serve.code == 0, serve.err
    assert took < STOP_TIMEOUT, f"{took:.1f} s"
    assert "cannot connect" not in serve.err and "Traceback" not in serve.err, serve.err
    print(f"{platform} hanging: SIGTERM ended serve in {took:.2f} s")


@pytest.mark.parametrize(
    ("case", "variable"),
    [
        ("app token rejected", "SLACK_APP_TOKEN"),
        ("app token of the wrong type", "SLACK_APP_TOKEN"),
        ("bot token rejected", "SLACK_BOT_TOKEN"),
        ("Discord token rejected", "DISCORD_TOKEN"),
        ("port in use", "LAMBERT_SLACK_PORT"),
    ],
)
async def test_a_rejected_token_or_taken_port_ends_serve_at_once_with_one_line(
    fakes: tuple[RemoteDiscord, RemoteSlack], tmp_path: Path, case: str, variable: str
) -> None:
    discord, slack = fakes
    tokens = DISCORD if "Discord" in case else SLACK
    env = lambert_env(tmp_path / "lambert.db", discord, slack, **tokens)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        if case == "app token rejected":
            slack.rejected_tokens.add(APP_TOKEN)
        elif case == "app token of the wrong type":
            env["SLACK_APP_TOKEN"] = "xoxb-not-an-app-token"
        elif case == "bot token rejected":
            slack.rejected_tokens.add(BOT_TOKEN)
        elif case == "Discord token rejected":
            discord.fail("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
        else:
            del env["SLACK_APP_TOKEN"]  # HTTP mode
            env |= {"SLACK_SIGNING_SECRET": SIGNING_SECRET, "LAMBERT_SLACK_HOST": "127.0.0.1"}
            env["LAMBERT_SLACK_PORT"] = str(busy.getsockname()[1])
        serve = await (await Lambert(env, "serve").start()).finish()
    finally:
        busy.close()
    assert serve.code == 2, serve.err
    errors = [line for line in serve.err.splitlines() if line.startswith("lambert: ")]
    assert len(errors) == 1, serve.err
    assert errors[0].startswith("lambert: configuration error: ") and variable in errors[0]
    assert "Traceback" not in serve.err and "cannot connect" not in serve.err
