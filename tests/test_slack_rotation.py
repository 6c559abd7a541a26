"""Token rotation with many channels due at once: one refresh per workspace, shared by every
task and every process, and a lost refresh race never switches a schedule off.

The fake Slack honours single-use refresh tokens as Slack documents them: a refresh token
answers once, and again `invalid_refresh_token`. Every test runs on SQLite and on a real
PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.adapters.slack.app import SlackPlatform
from bot.adapters.slack.oauth import PLATFORM, WorkspaceTokens, open_installs
from bot.adapters.slack.poster import open_slack_poster, web_client
from bot.config import Secret, Settings
from bot.daily.clock import StoppedClock
from bot.daily.scheduler import Scheduler
from bot.ports import TransientPostError
from bot.runtime import Core
from tests.fakes.slack_platform import CLIENT_ID, CLIENT_SECRET, SECOND_TEAM_ID, FakeSlack
from tests.support.slack import install, oauth_settings, posts_by_token, turn_on_at_nine
from tests.support.ticks import next_nine_in_berlin, tick_at

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

CHANNELS = [f"{SECOND_TEAM_ID}/C0ROTATE{n}" for n in range(5)]


@pytest.fixture
def platform(many_platform: SlackPlatform) -> SlackPlatform:
    return many_platform


def refreshes(fake: FakeSlack) -> list[str]:
    """The answers (ok, or the error) of every refresh so far."""
    return [
        "ok" if c.response.get("ok") else str(c.response.get("error"))
        for c in fake.calls("oauth.v2.access")
        if c.args.get("grant_type") == "refresh_token"
    ]


async def five_due(fake: FakeSlack, platform: SlackPlatform, core: Core) -> None:
    """SECOND_TEAM_ID installs with rotation on, its token inside the refresh window, and
    five of its channels due at the same 09:00. A refreshed token lasts 12 hours, as
    Slack's do."""
    fake.token_seconds[SECOND_TEAM_ID] = 60
    await install(fake, platform, SECOND_TEAM_ID)
    fake.token_seconds[SECOND_TEAM_ID] = 12 * 3600
    await turn_on_at_nine(core, *CHANNELS)


async def all_on(core: Core) -> None:
    for channel in CHANNELS:
        schedule = await core.daily.store.schedule("slack", channel)
        assert schedule is not None and schedule.enabled, schedule


async def test_serve_posts_five_due_channels_with_one_refresh(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    await five_due(fake_slack, platform, many_core)

    await tick_at(many_core, platform, next_nine_in_berlin())

    assert refreshes(fake_slack) == ["ok"]
    sent = fake_slack.calls("chat.postMessage")
    assert sorted(c.args["channel"] for c in sent) == [c.split("/")[1] for c in CHANNELS]
    assert {c.bearer for c in sent} == {f"{SECOND_TEAM_ID}#2"}  # the refreshed token
    await all_on(many_core)


async def test_daily_tick_posts_five_due_channels_with_one_refresh(
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    many_core: Core,
    settings: Settings,
    backend_url: str | None,
) -> None:
    """`lambert daily tick`'s poster: its own engine on the same database."""
    await five_due(fake_slack, platform, many_core)
    many = oauth_settings(settings, database_url=Secret(backend_url or ""))
    client = web_client(many, base_url=fake_slack.api_url)
    clock = StoppedClock(next_nine_in_berlin())

    async with open_slack_poster(many, io.StringIO(), client=client) as poster:
        await Scheduler(
            many_core.quotes, many_core.daily.with_clock(clock), {"slack": poster}
        ).tick()

    assert refreshes(fake_slack) == ["ok"]
    assert len(fake_slack.calls("chat.postMessage")) == 5
    assert set(posts_by_token(fake_slack)) == {f"{SECOND_TEAM_ID}#2"}
    await all_on(many_core)


async def test_two_processes_refreshing_at_once_refresh_once(
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    many_core: Core,
    settings: Settings,
    backend_url: str | None,
) -> None:
    """Two replicas (two engines, each with its own in-process locks) on one database, ten
    posts each asking for the workspace's token together: the database's lock lets one
    refresh, and every other caller re-reads the token it saved."""
    await five_due(fake_slack, platform, many_core)
    many = oauth_settings(settings, database_url=Secret(backend_url or ""))
    client = web_client(many, base_url=fake_slack.api_url)

    async with open_installs(many) as first, open_installs(many) as second:
        replicas = [WorkspaceTokens(many, store, client) for store in (first, second)]
        tokens = await asyncio.gather(
            *(r.token_for(SECOND_TEAM_ID) for r in replicas for _ in range(5))
        )

    assert refreshes(fake_slack) == ["ok"]
    assert {fake_slack.tokens[t] for t in tokens} == {f"{SECOND_TEAM_ID}#2"}


async def test_a_refresh_lost_to_a_process_outside_the_lock_waits_and_keeps_the_schedule(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    """Someone spent the stored refresh token and kept the answer (a lambert of an older
    version, a crash before saving): Slack answers invalid_refresh_token, the stored row
    is unchanged, so the post is retried later and the schedule stays on."""
    await five_due(fake_slack, platform, many_core)
    assert many_core.installs is not None
    stored = await many_core.installs.find(PLATFORM, "", SECOND_TEAM_ID)
    assert stored is not None and stored.bot_refresh_token
    spent = await fake_slack.client(token="").oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        grant_type="refresh_token",
        refresh_token=stored.bot_refresh_token,
    )
    assert spent["ok"]

    report = await tick_at(many_core, platform, next_nine_in_berlin())

    assert fake_slack.calls("chat.postMessage") == []
    first, *then = refreshes(fake_slack)
    assert first == "ok" and then and set(then) == {"invalid_refresh_token"}
    assert len(report.failed) == 5, report
    await all_on(many_core)
    tokens = WorkspaceTokens(platform.settings, many_core.installs, fake_slack.client())
    with pytest.raises(TransientPostError, match="invalid_refresh_token"):
        await tokens.token_for(SECOND_TEAM_ID)
