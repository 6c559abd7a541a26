"""Every listener is bounded (bot/adapters/listening.py): idle, slow and surplus connections
are closed, malformed requests get 4xx and one log line a minute, and a listener out of files
says so once, with the fix. Driven over real sockets against the real aiohttp server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web

from bot.adapters import listening
from bot.adapters.listening import Limits, OncePerMinute, listen
from bot.adapters.slack.app import create_platform
from bot.adapters.slack.poster import web_client
from bot.config import Settings
from bot.runtime import Core
from tests.fakes.slack_platform import FakeSlack
from tests.support.slack import Sleeps, slack_settings, slash

PATIENCE = 10.0  # seconds: a connection never closed fails the test instead of hanging it
VARIABLES = ("HOST", "PORT")


@pytest.fixture(autouse=True)
def fresh_refusal_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The once-a-minute line is process-wide: each test starts with none logged yet."""
    monkeypatch.setattr(listening, "REFUSAL_LINES", OncePerMinute())
    logger = listening.REFUSALS
    monkeypatch.setattr(logger, "filters", [listening.REFUSAL_LINES])


def hello_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_route("*", "/", hello)
    return app


@contextlib.asynccontextmanager
async def serving(limits: Limits) -> AsyncIterator[int]:
    runner, port = await listen(hello_app(), "127.0.0.1", 0, VARIABLES, limits)
    try:
        yield port
    finally:
        await runner.cleanup()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    async with asyncio.timeout(PATIENCE):
        return await reader.read()


async def test_idle_and_slow_connections_are_closed() -> None:
    async with serving(Limits(idle_seconds=0.05, body_seconds=0.05)) as port:
        opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(6)]
        slow_head, slow_body = opened[2:4], opened[4:]  # the first two send nothing
        for _, writer in slow_head:  # slowloris: a head that never ends
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        for _, writer in slow_body:  # a body that never arrives
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")

        answers = [await closed_by_server(reader) for reader, _ in opened]

        assert answers[:4] == [b""] * 4
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers[4:]), answers[4:]
        for _, writer in opened:
            writer.close()


def head(line: bytes = b"GET / HTTP/1.1", headers: list[bytes] | None = None) -> bytes:
    return b"\r\n".join([line, b"Host: x", *(headers or []), b"Connection: close", b"", b""])


MALFORMED = [
    head(headers=[b"X-Big: " + b"a" * 9000]),  # a 9 KB header line
    head(line=b"GET /" + b"a" * 9000 + b" HTTP/1.1"),  # a long URL
    head(headers=[b"X-%d: 1" % i for i in range(5000)]),  # 5,000 headers
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # TLS sent to plain HTTP
    head(headers=[b"Content-Length: " + str(2 * 1024**2).encode()]),  # a body over the limit
]


async def test_malformed_requests_get_4xx_and_one_line_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    caplog.set_level(logging.WARNING)
    statuses = []
    async with serving(Limits(body_seconds=0.05)) as port:  # no lingering on a refused body
        for request in MALFORMED * 20:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            answer = await closed_by_server(reader)
            statuses.append(answer.split(b" ", 2)[1] if answer else b"closed")
            writer.close()

    assert {s for s in statuses if not s.startswith(b"4")} <= {b"closed"}, set(statuses)
    assert statuses.count(b"closed") <= 20  # only the TLS greeting, which aiohttp may just close
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].exc_info is None and "\n" not in logged[0].getMessage()


def test_refusal_lines_come_once_a_minute_counting_the_rest() -> None:
    now = [0.0]
    lines = OncePerMinute(clock=lambda: now[0])
    record = logging.LogRecord("x", logging.ERROR, "", 0, "Error handling request", None, None)
    results = []
    for at in (0.0, 1.0, 59.0, 60.5, 61.0):
        now[0] = at
        fresh = logging.makeLogRecord(record.__dict__)
        results.append(fresh.getMessage() if lines.filter(fresh) else None)
    assert results == [
        "Error handling request",
        None,
        None,
        "Error handling request (and 2 more in the last 60 s)",
        None,
    ]


async def test_an_idle_flood_beyond_the_cap_leaves_room_for_a_signed_command(
    fake_slack: FakeSlack, core: Core, settings: Settings
) -> None:
    cap, flood = 16, 40
    http = slack_settings(settings)
    client = web_client(http, base_url=fake_slack.api_url, sleep=Sleeps())
    platform = create_platform(http, core, client=client, host="127.0.0.1")
    platform.limits = replace(platform.limits, max_connections=cap)
    await platform.start()
    try:
        idle = [await asyncio.open_connection("127.0.0.1", platform.port) for _ in range(flood)]
        reply = await slash(fake_slack, platform, "help")
        assert reply.body, "the command was answered"
        closing = {asyncio.ensure_future(reader.read()) for reader, _ in idle}
        closed = 0
        async with asyncio.timeout(PATIENCE):
            while closed < flood - cap:
                done, closing = await asyncio.wait(closing, return_when=asyncio.FIRST_COMPLETED)
                closed += len(done)
        for task in closing:
            task.cancel()
        for _, writer in idle:
            writer.close()
    finally:
        await platform.close()


async def test_a_listener_out_of_files_says_so_once_with_the_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    clients: list[socket.socket] = []
    async with serving(Limits()) as first, serving(Limits()) as second:
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 6, hard))
        try:
            with contextlib.suppress(OSError):  # connect until this process is out of files
                while True:
                    sock = socket.socket()
                    clients.append(sock)
                    sock.setblocking(False)
                    with contextlib.suppress(BlockingIOError):
                        sock.connect(("127.0.0.1", (first, second)[len(clients) % 2]))
            # Both listeners now fail to accept (the loop runs them once this test yields).
            # asyncio offers no event for a failed accept: each pass of the loop may bring it.
            async with asyncio.timeout(PATIENCE):
                while not _said(caplog):  # noqa: ASYNC110
                    await asyncio.sleep(0)
            for _ in range(10):
                await asyncio.sleep(0)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            for sock in clients:
                sock.close()

    lines = _said(caplog)
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "raise the file limit" in lines[0].getMessage()
    assert lines[0].exc_info is None
    assert not [r for r in caplog.records if listening.ACCEPT_ERROR in r.getMessage()]


def _said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "cannot accept" in r.getMessage()]
