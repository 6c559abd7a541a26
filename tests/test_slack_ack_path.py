"""The HTTP ack path does each check once: one signature check (bolt's request verification;
RequestGuard in front only refuses what bolt would raise on), one parse of a slash command
(bolt's), one auth.test for the process."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.request.internals import parse_body

from bot.adapters.slack import http as slack_http
from bot.adapters.slack.app import EVENTS_PATH
from bot.adapters.slack.http import bolt_can_parse
from bot.config import Settings
from bot.runtime import Core
from tests.fakes.slack_platform import SIGNING_SECRET, FakeSlack, signed_headers, slash_command_form
from tests.support.slack import (
    events_url,
    post_signed,
    post_signed_reply,
    running_platform,
    slack_settings,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# (body, Content-Type): bodies bolt's parse_body turns into a dict, or raises on, or turns
# into something else. bolt_can_parse must agree with it on every row.
BODIES: list[tuple[str, str | None]] = [
    ("", FORM),
    ("command=%2Flambert&text=dpo", FORM),
    ("text=%FF%FE", FORM),  # undecodable escapes: replaced, not raised
    ("text=%ZZ&x", FORM),
    ("&&&;==", FORM),
    ("a=b=c&a=d", FORM),
    ("text=payload", FORM),  # "payload" anywhere: bolt looks for the field
    ("payload", FORM),
    ("payload=", FORM),
    ("payload=" + quote('{"type": "block_actions"}'), FORM),
    ("payload=" + quote("[1]"), FORM),
    ("payload=%7Bnope", FORM),
    ("payload=123", FORM),
    ('{"type": "event_callback"}', JSON),
    ('{"type": ', JSON),
    ("[1, 2]", JSON),
    ("[" * 10_000, JSON),
    ("{", None),
    ("text=dpo", JSON),  # declared JSON: bolt parses it as JSON
]


def _bolt_gets_a_dict(body: str, content_type: str | None) -> bool:
    try:
        return isinstance(parse_body(body, content_type), dict)
    except (ValueError, RecursionError):
        return False


@pytest.mark.parametrize(("body", "content_type"), BODIES)
def test_the_guard_lets_through_exactly_what_bolt_can_parse(
    body: str, content_type: str | None
) -> None:
    assert bolt_can_parse(body, content_type) == _bolt_gets_a_dict(body, content_type)


def test_a_slash_command_is_not_parsed_by_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []

    def counting_parse_qsl(body: str, **kwargs: Any) -> list[tuple[str, str]]:
        parsed.append(body)
        return []

    monkeypatch.setattr(slack_http, "parse_qsl", counting_parse_qsl)
    assert bolt_can_parse(slash_command_form("dpo", response_url="http://127.0.0.1:9/r"), FORM)
    assert parsed == []  # bolt parses it, once
    bolt_can_parse("payload=" + quote(json.dumps({"type": "block_actions"})), FORM)
    assert len(parsed) == 1  # an interaction's payload is still checked


async def test_one_signature_check_and_bad_signatures_still_refused(
    fake_slack: FakeSlack, core: Core, settings: Settings
) -> None:
    async with running_platform(fake_slack, core, slack_settings(settings)) as platform:
        middleware = platform.app._async_middleware_list  # what bolt runs
        assert [type(m) for m in middleware].count(AsyncRequestVerification) == 1
        assert platform._runner is not None
        web_app = platform._runner.app
        assert platform.guard.middleware in web_app.middlewares
        posts = {r.resource.canonical for r in web_app.router.routes() if r.method == "POST"}
        assert posts == {EVENTS_PATH} == {platform.guard.path}  # every POST passes the guard

        url = events_url(platform)
        body = slash_command_form("dpo", response_url=fake_slack.response_url("bad"))
        forged = signed_headers("not-the-secret", body)
        assert await post_signed(url, body, forged) == 401
        other = slash_command_form("rlhf", response_url=fake_slack.response_url("bad"))
        assert await post_signed(url, other, signed_headers(SIGNING_SECRET, body)) == 401
        stale = signed_headers(SIGNING_SECRET, body, timestamp=1_000_000_000)
        assert await post_signed(url, body, stale) == 401

        good = slash_command_form("dpo", response_url=fake_slack.response_url("good"))
        status, acked = await post_signed_reply(url, good, FORM)
        assert status == 200
        assert json.loads(acked)["response_type"] == "ephemeral"  # the answer, in the ack
        await platform.handlers.drain()
    assert fake_slack.responses.items == []


async def test_auth_test_is_asked_once_not_per_command(
    fake_slack: FakeSlack, core: Core, settings: Settings
) -> None:
    async with running_platform(fake_slack, core, slack_settings(settings)) as platform:
        started = len(fake_slack.calls("auth.test"))  # start() checks the token
        for n in range(20):
            body = slash_command_form("dpo", response_url=fake_slack.response_url(f"r{n}"))
            status, acked = await post_signed_reply(events_url(platform), body, FORM)
            assert status == 200 and json.loads(acked)["blocks"]
        assert len(fake_slack.calls("auth.test")) - started <= 1  # bolt's, cached
