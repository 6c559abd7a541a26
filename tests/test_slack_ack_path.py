"""The HTTP ack path does each check once: one signature check (bolt's request verification;
RequestGuard around it only turns what bolt raises on into a 400), one auth.test for the
process."""

from __future__ import annotations

import json

from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)

from bot.adapters.slack.app import EVENTS_PATH
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
