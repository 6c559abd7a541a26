"""Two Slack replicas sharing one PostgreSQL: whichever gets a request, the state is the same.

Socket Mode: two SlackPlatforms on one app token each open a connection, and the fake Slack
hands each envelope to one of them, as Slack spreads events over an app's connections.
HTTP mode: two listeners behind a load balancer that alternates between them. In both, a
daily schedule set through one replica shows in the status another gives, and a Post click
replayed to the other replica posts once (the preview claim is in the shared database).
Replicas are in-process: each its own Core (quote file, PostgreSQL pool), platform and port.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.adapters.slack.app import SlackPlatform
from bot.config import Secret, Settings, load_settings
from bot.runtime import Core, open_core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    APP_TOKEN,
    CHANNEL_ID,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlack,
    interactive_form,
    signed_headers,
    slash_command_form,
    slash_command_payload,
)
from tests.support.paths import CORPUS
from tests.support.slack import (
    Answer,
    events_url,
    post_click,
    post_signed_reply,
    running_platform,
    slack_settings,
)

TURN_ON = "daily on 09:00 Europe/Berlin"
ON = "Daily quote on"
STATUS = "every day at 09:00 Europe/Berlin"


@pytest.fixture
async def cores(tmp_path: Path, postgres_url: str) -> AsyncIterator[list[Core]]:
    """Two replicas' cores: each its own SQLite quote file, both on the test's PostgreSQL."""
    async with contextlib.AsyncExitStack() as stack:
        opened = []
        for name in ("a", "b"):
            settings = load_settings(
                {}, db_path=tmp_path / f"{name}.db", corpus_path=CORPUS, database_url=postgres_url
            )
            opened.append(await stack.enter_async_context(open_core(settings)))
        yield opened


@contextlib.asynccontextmanager
async def replicas(
    fake: FakeSlack, cores: list[Core], settings: Settings
) -> AsyncIterator[list[SlackPlatform]]:
    """A started SlackPlatform per core, in order; in Socket Mode the n-th connects n-th."""
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for n, core in enumerate(cores, start=1):
            started.append(await stack.enter_async_context(running_platform(fake, core, settings)))
            if settings.slack_app_token:
                await fake.wait_for_sockets(n)
        yield started


def first_text(reply: Answer) -> str:
    return str(reply.body["blocks"][0]["text"]["text"]) if "blocks" in reply.body else ""


def posted(fake: FakeSlack) -> list[str]:
    return [c.args["channel"] for c in fake.calls("chat.postMessage") if c.response["ok"]]


# -- Socket Mode: one app token, a connection per replica -----------------------------------------


async def test_socket_mode_replicas_share_the_daily_state_and_a_preview_posts_once(
    fake_slack: FakeSlack, cores: list[Core], settings: Settings
) -> None:
    socket_settings = slack_settings(
        settings, slack_app_token=Secret(APP_TOKEN), slack_signing_secret=Secret("")
    )
    async with replicas(fake_slack, cores, socket_settings):
        opened = fake_slack.calls("apps.connections.open")
        assert len(opened) == 2 and all(c.authorization == "Bearer xapp-(redacted)" for c in opened)

        async def command(text: str, socket: int, response_id: str) -> Answer:
            payload = slash_command_payload(
                text, response_url=fake_slack.response_url(response_id), user_id=ADMIN_ID
            )
            envelope_id = await fake_slack.push_envelope("slash_commands", payload, socket=socket)
            return Answer(await fake_slack.answer_to(envelope_id, response_id), response_id)

        assert ON in first_text(await command(TURN_ON, 0, "on-at-a"))
        assert STATUS in first_text(await command("daily status", 1, "status-at-b"))
        for core in cores:  # both read the one row
            saved = await core.daily.store.schedule("slack", f"{TEAM_ID}/{CHANNEL_ID}")
            assert saved is not None and saved.enabled

        preview = (await command("careers", 0, "preview-at-a")).body
        click = post_click(fake_slack, preview)
        answers = []
        for socket in (1, 0):  # Slack delivers it again, on the other connection
            envelope_id = await fake_slack.push_envelope("interactive", click, socket=socket)
            await fake_slack.wait_for_ack(envelope_id)
            answers.append((await fake_slack.next_response()).body)
    assert posted(fake_slack) == [CHANNEL_ID]
    assert answers[0]["delete_original"] is True
    assert answers[1]["text"] == "Already posted."


# -- HTTP mode: two listeners behind a load balancer ----------------------------------------------


class Balancer:
    """Round robin over the replicas' /slack/events, as a load balancer forwards requests."""

    def __init__(self, platforms: list[SlackPlatform]) -> None:
        self.urls: Iterator[str] = itertools.cycle([events_url(p) for p in platforms])
        self.sent: list[str] = []

    async def post(self, body: str, headers: dict[str, str] | None = None) -> str:
        """POST to the next replica; the ack's body."""
        url = next(self.urls)
        self.sent.append(url)
        form = "application/x-www-form-urlencoded"
        status, acked = await post_signed_reply(url, body, form, headers)
        assert status == 200, acked
        return acked

    async def command(self, fake: FakeSlack, text: str, response_id: str) -> Answer:
        body = slash_command_form(
            text, response_url=fake.response_url(response_id), user_id=ADMIN_ID
        )
        acked = await self.post(body)
        return Answer(await fake.answer_after(acked, response_id), response_id)


async def test_http_replicas_behind_a_load_balancer_share_the_daily_state_and_previews(
    fake_slack: FakeSlack, cores: list[Core], settings: Settings
) -> None:
    async with replicas(fake_slack, cores, slack_settings(settings)) as (a, b):
        assert a.port != b.port
        balancer = Balancer([a, b])
        assert ON in first_text(await balancer.command(fake_slack, TURN_ON, "on"))  # to A
        assert STATUS in first_text(await balancer.command(fake_slack, "daily status", "status"))

        preview = (await balancer.command(fake_slack, "careers", "preview")).body  # to A
        body = interactive_form(post_click(fake_slack, preview))
        headers = signed_headers(SIGNING_SECRET, body)  # the very same request, twice
        answers = []
        for _ in range(2):  # to B, then A
            await balancer.post(body, headers)
            answers.append((await fake_slack.next_response()).body)
        assert balancer.sent == [events_url(p) for p in (a, b, a, b, a)]
    assert posted(fake_slack) == [CHANNEL_ID]
    assert answers[0]["delete_original"] is True
    assert answers[1]["text"] == "Already posted."
    assert json.dumps(answers).count("Already posted.") == 1
