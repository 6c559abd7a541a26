"""Slack HTTP mode refuses garbage: unsigned, stale and malformed requests to the real server
get 4xx, never a 500 or a traceback, with a bounded number of log lines."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import aiohttp
import pytest

from bot.adapters.listening import Ration
from bot.adapters.slack import app as slack_http
from bot.adapters.slack.app import RequestGuard, create_platform
from bot.config import ConfigError, Settings, load_settings
from bot.runtime import Core
from tests.fakes.slack_platform import SIGNING_SECRET, FakeSlack, slash_command_form
from tests.support.slack import events_url, running_platform, slack_settings

Request = tuple[str, bytes, dict[str, str]]  # method, body, headers
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
FLOOD = 1000


def signed(body: bytes, content_type: str = FORM, ts: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    mac = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={mac.hexdigest()}",
    }


def with_stamp(stamp: str) -> dict[str, str]:
    return {"Content-Type": FORM, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=0"}


# Refused before any answer is attempted, so its response_url is never called.
GOOD_FORM = slash_command_form("dpo", response_url="http://127.0.0.1:9/response/x").encode()

# Each: (name, builder of one request). Signed ones are read and parsed by bolt, which raises
# on them: still a 400, never a 500.
GARBAGE: list[tuple[str, Callable[[], Request]]] = [
    ("no headers", lambda: ("POST", GOOD_FORM, {"Content-Type": FORM})),
    (
        "bad signature",
        lambda: ("POST", GOOD_FORM, {**signed(GOOD_FORM), "X-Slack-Signature": "v0=beef"}),
    ),
    ("signature of another body", lambda: ("POST", GOOD_FORM + b"&x=1", signed(GOOD_FORM))),
    ("stale", lambda: ("POST", GOOD_FORM, signed(GOOD_FORM, ts=int(time.time()) - 600))),
    ("future", lambda: ("POST", GOOD_FORM, signed(GOOD_FORM, ts=int(time.time()) + 600))),
    ("words for a timestamp", lambda: ("POST", GOOD_FORM, with_stamp("yesterday"))),
    ("negative timestamp", lambda: ("POST", GOOD_FORM, with_stamp("-5"))),
    ("float timestamp", lambda: ("POST", GOOD_FORM, with_stamp("1e9"))),
    ("huge timestamp", lambda: ("POST", GOOD_FORM, with_stamp("9" * 400))),
    ("invalid UTF-8", lambda: ("POST", b"text=\xff\xfe\xc3", signed(b"text=\xff\xfe\xc3"))),
    ("broken JSON", lambda: ("POST", b'{"type": ', signed(b'{"type": ', JSON))),
    ("JSON array", lambda: ("POST", b"[1, 2]", signed(b"[1, 2]", JSON))),
    ("JSON nested deep", lambda: ("POST", b"[" * 100_000, signed(b"[" * 100_000, JSON))),
    ("payload not JSON", lambda: ("POST", b"payload=%7Bnope", signed(b"payload=%7Bnope"))),
    ("payload a number", lambda: ("POST", b"payload=123", signed(b"payload=123"))),
    ("charset unknown", lambda: ("POST", GOOD_FORM, signed(GOOD_FORM, f"{FORM}; charset=bogus"))),
    ("GET", lambda: ("GET", b"", {})),
]


@pytest.fixture
def http_settings(settings: Settings) -> Settings:
    return slack_settings(settings)


async def test_a_thousand_bad_requests_get_4xx_and_a_few_log_lines(
    fake_slack: FakeSlack,
    core: Core,
    http_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # As serve logs it (setup_logging caps aiosqlite at WARNING): aiosqlite's worker thread
    # logs "operation ... completed" after the awaiting coroutine may have resumed, so
    # start()'s last COMMIT could land among the flood's records.
    caplog.set_level(logging.WARNING, logger="aiosqlite")
    # As serve caps it too: bolt's verification logs each refused signature at INFO.
    caplog.set_level(logging.WARNING, logger="slack_bolt")
    statuses: Counter[tuple[str, int]] = Counter()
    async with (
        running_platform(fake_slack, core, http_settings) as platform,
        aiohttp.ClientSession() as session,
    ):
        url = events_url(platform)
        caplog.clear()
        for n in range(FLOOD):
            name, build = GARBAGE[n % len(GARBAGE)]
            method, body, headers = build()
            async with session.request(method, url, data=body, headers=headers) as response:
                await response.read()
                statuses[(name, response.status)] += 1
        flood_records = [r for r in caplog.records if r.name != "aiohttp.access"]
        # The door still opens for Slack itself, and the answer rides in the ack.
        good = slash_command_form("dpo", response_url=fake_slack.response_url("good")).encode()
        async with session.post(url, data=good, headers=signed(good)) as response:
            assert response.status == 200
            answer = json.loads(await response.text())
        assert answer["response_type"] == "ephemeral"

    assert sum(statuses.values()) == FLOOD
    wrong = {k: v for k, v in statuses.items() if not 400 <= k[1] < 500}
    assert wrong == {}, wrong
    assert [r for r in flood_records if r.exc_info or r.levelno >= logging.ERROR] == []
    lines = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in flood_records]
    assert all("\n" not in line for line in lines)
    # One line per reason, whatever the count: 1,000 requests, a dozen lines at most.
    assert len(lines) <= 12, "\n".join(lines)
    assert all(r.name == "bot.adapters.slack.app" for r in flood_records), lines
    codes = sorted({status for _, status in statuses})
    print(f"{FLOOD} bad requests: {len(lines)} log lines; statuses {codes}")


def test_complaints_log_one_line_per_reason_a_minute_and_count_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    complaints = RequestGuard("/slack/events", ration=Ration(every=60.0, clock=lambda: now[0]))
    with caplog.at_level(logging.WARNING, logger=slack_http.log.name):
        for _ in range(500):
            complaints.note("bad signature", 401, "203.0.113.9")
            complaints.note("stale timestamp", 401, "203.0.113.9")
        now[0] += 61
        complaints.note("bad signature", 401, "203.0.113.9")
    assert [r.getMessage() for r in caplog.records] == [
        "slack: refused a request to /slack/events, bad signature: 401 from 203.0.113.9",
        "slack: refused a request to /slack/events, stale timestamp: 401 from 203.0.113.9",
        "slack: refused a request to /slack/events, bad signature: 401 from 203.0.113.9 "
        "(and 499 more in the last 60 s)",
    ]


@pytest.mark.parametrize(
    ("raw", "host"), [("", "127.0.0.1"), (" 0.0.0.0 ", "0.0.0.0"), ("::1", "::1")]
)
def test_the_listen_address_is_lambert_slack_host_loopback_by_default(raw: str, host: str) -> None:
    assert load_settings({"LAMBERT_SLACK_HOST": raw}).slack_host == host


@pytest.mark.parametrize("raw", ["0.0.0.0:3000", "http://0.0.0.0", "my host", "hôte"])
def test_a_listen_address_that_is_not_one_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"LAMBERT_SLACK_HOST=.* is not an address"):
        load_settings({"LAMBERT_SLACK_HOST": raw})


async def test_http_mode_listens_on_the_configured_address(
    fake_slack: FakeSlack, core: Core, http_settings: Settings
) -> None:
    settings = replace(http_settings, slack_host="127.0.0.1")
    platform = create_platform(settings, core, client=fake_slack.client())
    await platform.start()
    try:
        assert platform.connected
        assert platform._runner is not None
        assert [a[0] for a in platform._runner.addresses] == ["127.0.0.1"]
    finally:
        await platform.close()
    assert not platform.connected
