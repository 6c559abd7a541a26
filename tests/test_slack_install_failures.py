"""An install that cannot finish (Slack drops or fails oauth.v2.access, lambert's database
fails) answers a page saying what went wrong with a link to try again, and logs one line:
bolt's real OAuth flow against the fake Slack (bot/adapters/slack/install_flow.py)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.adapters.slack.app import SlackPlatform
from bot.config import Settings
from bot.runtime import Core
from bot.storage.engine import open_engine
from tests.fakes.slack_platform import TEAM_ID, FakeSlack
from tests.support.slack import base_url, oauth_settings, running_platform

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
async def platform(
    fake_slack: FakeSlack, core: Core, settings: Settings
) -> AsyncIterator[SlackPlatform]:
    async with running_platform(fake_slack, core, oauth_settings(settings)) as up:
        yield up


async def finish_install(fake: FakeSlack, platform: SlackPlatform) -> tuple[int, str]:
    """Start an install and come back from Slack with its code: (status, page)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base_url(platform)}/slack/install") as page:
            name, _, rest = page.headers["Set-Cookie"].partition("=")
        state = rest.split(";", 1)[0]
        url = (
            f"{base_url(platform)}/slack/oauth_redirect?code={fake.approve(TEAM_ID)}&state={state}"
        )
        async with session.get(url, headers={"Cookie": f"{name}={state}"}) as done:
            return done.status, await done.text()


def refuse_installs(settings: Settings) -> None:
    """The database refuses to store an install, as a locked or broken one would."""
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON installs "
            "BEGIN SELECT RAISE(ABORT, 'database is locked'); END"
        )


@pytest.mark.parametrize(
    ("fault", "status", "said"),
    [
        ("drop", 502, "Slack could not be reached"),
        ("503", 401, "Slack did not confirm the install"),
        ("database", 503, "its database failed"),
    ],
)
async def test_an_install_that_cannot_finish_gets_a_page_and_one_line(
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    status: int,
    said: str,
) -> None:
    caplog.set_level(logging.WARNING)
    if fault == "database":
        async with open_engine(settings.db_path):  # the state's tables, at the head
            pass
        refuse_installs(settings)
    else:
        fake_slack.lose_answers("oauth.v2.access", fault)

    answered, page = await finish_install(fake_slack, platform)

    assert answered == status
    assert said in page and 'href="/slack/install"' in page
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].exc_info is None and "did not finish" in logged[0].getMessage()


async def test_a_forged_state_gets_the_page_too(
    platform: SlackPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{base_url(platform)}/slack/oauth_redirect?code=x&state=forged.1.x"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Cookie": "slack-app-oauth-state=forged.1.x"}) as refused,
    ):
        assert refused.status == 401
        assert "expired or was used already" in await refused.text()
