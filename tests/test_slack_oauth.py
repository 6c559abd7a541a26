"""Slack in many workspaces: bolt's real OAuth flow against the fake Slack, each workspace
answered and posted to with its own token, rotation before a daily post, and removal.

Every test runs on SQLite and on a real PostgreSQL server (the installs, states and daily
state live in lambert's database either way).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time
from typing import Any

import aiohttp
import pytest

from bot.adapters.slack.app import SlackPlatform
from bot.adapters.slack.blocks import POST
from bot.adapters.slack.modal import ANY_THEME, CHANGE
from bot.adapters.slack.oauth import PLATFORM, REVOKED, UNINSTALLED
from bot.adapters.slack.poster import open_slack_poster, web_client
from bot.config import Secret, Settings, load_settings
from bot.ports import TransientPostError
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    SECOND_TEAM_ID,
    TEAM_ID,
    FakeSlack,
    removal_event,
    view_submission_payload,
)
from tests.support.slack import (
    base_url,
    click,
    form_values,
    home_opened,
    install,
    interact,
    oauth_settings,
    open_form,
    posts_by_token,
    send_event,
    slash,
    turn_on_at_nine,
)
from tests.support.ticks import next_nine_in_berlin, tick_at

# slack_sdk sends oauth.v2.access's client credentials with aiohttp's BasicAuth, which
# aiohttp 3.12 calls deprecated; the library's business, not this test's.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

TURN_ON = "daily on 09:00 Europe/Berlin"
FIRST, SECOND = f"{TEAM_ID}/{CHANNEL_ID}", f"{SECOND_TEAM_ID}/{CHANNEL_ID}"


@pytest.fixture
def platform(many_platform: SlackPlatform) -> SlackPlatform:
    return many_platform


async def test_two_workspaces_install_and_each_is_answered_with_its_own_token(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    page = await install(fake_slack, platform, TEAM_ID)
    await install(fake_slack, platform, SECOND_TEAM_ID)

    assert "Thank you" in page or "success" in page.lower()
    exchanged = fake_slack.calls("oauth.v2.access")
    assert [c.response["team"]["id"] for c in exchanged] == [TEAM_ID, SECOND_TEAM_ID]
    assert [c.response["scope"] for c in exchanged] == ["commands,chat:write,users:read"] * 2
    assert [c.bearer for c in fake_slack.calls("auth.test")] == [
        f"{TEAM_ID}#1",
        f"{SECOND_TEAM_ID}#2",
    ]
    assert many_core.installs is not None
    saved = await many_core.installs.find(PLATFORM, "", SECOND_TEAM_ID)
    assert saved is not None and saved.team_name == "Second Test"

    # The same channel id in both (a Slack Connect channel): two schedules, one per workspace.
    for team in (TEAM_ID, SECOND_TEAM_ID):
        reply = await slash(fake_slack, platform, TURN_ON, user_id=ADMIN_ID, team_id=team)
        assert "09:00" in str(reply.body), reply.body
    lookups = fake_slack.calls("users.info")
    assert [c.bearer for c in lookups] == [f"{TEAM_ID}#1", f"{SECOND_TEAM_ID}#2"]
    assert [s.channel for s in await many_core.daily.store.schedules()] == [FIRST, SECOND]

    # A button from the second workspace posts with the second workspace's token.
    preview = (await slash(fake_slack, platform, "", team_id=SECOND_TEAM_ID)).body
    await click(fake_slack, platform, preview, POST, team_id=SECOND_TEAM_ID)
    shared = await fake_slack.next_call("chat.postMessage")
    assert shared.bearer == f"{SECOND_TEAM_ID}#2"


async def test_daily_posts_in_both_workspaces_go_out_with_their_tokens(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    await install(fake_slack, platform, TEAM_ID)
    await install(fake_slack, platform, SECOND_TEAM_ID)
    await turn_on_at_nine(many_core, FIRST, SECOND)

    await tick_at(many_core, platform, next_nine_in_berlin())

    sent = posts_by_token(fake_slack)
    assert set(sent) == {f"{TEAM_ID}#1", f"{SECOND_TEAM_ID}#2"}
    assert all(call.args["channel"] == CHANNEL_ID for call in sent.values())


async def test_a_token_about_to_expire_is_refreshed_before_a_daily_post(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    fake_slack.token_seconds[SECOND_TEAM_ID] = 60  # rotation on; within the refresh window
    await install(fake_slack, platform, TEAM_ID)
    await install(fake_slack, platform, SECOND_TEAM_ID)
    await turn_on_at_nine(many_core, FIRST, SECOND)

    await tick_at(many_core, platform, next_nine_in_berlin())

    refreshes = [c for c in fake_slack.calls("oauth.v2.access") if c.args.get("grant_type")]
    assert [c.args["grant_type"] for c in refreshes] == ["refresh_token"]
    assert set(posts_by_token(fake_slack)) == {f"{TEAM_ID}#1", f"{SECOND_TEAM_ID}#3"}
    assert many_core.installs is not None
    saved = await many_core.installs.find(PLATFORM, "", SECOND_TEAM_ID)
    assert saved is not None and fake_slack.tokens[saved.bot_token] == f"{SECOND_TEAM_ID}#3"
    assert saved.bot_refresh_token and saved.bot_token_expires_at is not None
    # A workspace without rotation never asked for a refresh.
    first = await many_core.installs.find(PLATFORM, "", TEAM_ID)
    assert first is not None and first.bot_refresh_token is None


@pytest.mark.parametrize(
    ("kind", "reason"), [("app_uninstalled", UNINSTALLED), ("tokens_revoked", REVOKED)]
)
async def test_a_workspace_that_removes_the_app_stops_while_the_other_keeps_posting(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core, kind: str, reason: str
) -> None:
    await install(fake_slack, platform, TEAM_ID)
    await install(fake_slack, platform, SECOND_TEAM_ID)
    await turn_on_at_nine(many_core, FIRST, SECOND)

    fake_slack.revoke_team(SECOND_TEAM_ID)
    await send_event(platform, removal_event(kind, SECOND_TEAM_ID))

    store = many_core.daily.store
    second, first = await store.schedule("slack", SECOND), await store.schedule("slack", FIRST)
    assert second is not None and not second.enabled and second.disabled_reason == reason
    assert first is not None and first.enabled
    assert many_core.installs is not None
    assert await many_core.installs.find(PLATFORM, "", SECOND_TEAM_ID) is None
    status = await slash(fake_slack, platform, "daily status", user_id=ADMIN_ID, team_id=TEAM_ID)
    assert "09:00" in str(status.body)

    await tick_at(many_core, platform, next_nine_in_berlin())
    assert set(posts_by_token(fake_slack)) == {f"{TEAM_ID}#1"}


async def test_the_redirect_without_the_state_cookie_installs_nothing(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base_url(platform)}/slack/install") as page:
            state = page.headers["Set-Cookie"].partition("=")[2].split(";", 1)[0]
        code = fake_slack.approve(TEAM_ID)
        url = f"{base_url(platform)}/slack/oauth_redirect?code={code}&state={state}"
        async with session.get(url) as refused:  # no Cookie: another browser
            assert refused.status == 400
    assert fake_slack.calls("oauth.v2.access") == []
    assert many_core.installs is not None
    assert await many_core.installs.find(PLATFORM, "", TEAM_ID) is None


async def test_daily_tick_without_serving_posts_with_each_workspace_token(
    fake_slack: FakeSlack,
    platform: SlackPlatform,
    many_core: Core,
    settings: Settings,
    backend_url: str | None,
) -> None:
    """`lambert daily tick`'s poster reads the installs from the database on its own."""
    await install(fake_slack, platform, TEAM_ID)
    await install(fake_slack, platform, SECOND_TEAM_ID)
    many = oauth_settings(settings, database_url=Secret(backend_url or ""))
    quote = await many_core.quotes.random_quote()
    assert quote is not None

    client = web_client(many, base_url=fake_slack.api_url)
    async with open_slack_poster(many, io.StringIO(), client=client) as poster:
        await poster.post_daily(SECOND, quote, datetime.now(UTC).date())
        # Not installed (yet): the post waits, its schedule stays on (oauth.py's Removals turn off
        # the schedules of a workspace that removes the app).
        with pytest.raises(TransientPostError, match="waiting for the app to be installed"):
            await poster.post_daily(f"T0NOWHERE/{CHANNEL_ID}", quote, datetime.now(UTC).date())

    assert set(posts_by_token(fake_slack)) == {f"{SECOND_TEAM_ID}#2"}


async def test_a_command_from_a_workspace_with_an_expiring_token_uses_a_refreshed_one(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    """bolt's authorize finds the install through lambert's installation store, which
    refreshes the token (under the install's lock, as a daily post does) and saves it before
    the listener runs; bolt has nothing left to refresh."""
    fake_slack.token_seconds[SECOND_TEAM_ID] = 60
    await install(fake_slack, platform, SECOND_TEAM_ID)
    fake_slack.token_seconds[SECOND_TEAM_ID] = 12 * 3600  # a refreshed token lasts 12 hours

    reply = await slash(fake_slack, platform, TURN_ON, user_id=ADMIN_ID, team_id=SECOND_TEAM_ID)

    assert "09:00" in str(reply.body), reply.body
    refreshed = [c for c in fake_slack.calls("oauth.v2.access") if c.args.get("grant_type")]
    assert [c.response["ok"] for c in refreshed] == [True]
    assert [c.bearer for c in fake_slack.calls("users.info")] == [f"{SECOND_TEAM_ID}#2"]
    assert many_core.installs is not None
    saved = await many_core.installs.find(PLATFORM, "", SECOND_TEAM_ID)
    assert saved is not None and fake_slack.tokens[saved.bot_token] == f"{SECOND_TEAM_ID}#2"
    assert saved.installer_id == ADMIN_ID  # kept through the refresh


def test_the_client_secret_is_redacted_and_many_workspaces_need_id_and_secret() -> None:
    env = {"SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "s3cr3t-client"}
    many = load_settings(env)
    assert many.slack_many_workspaces and "s3cr3t-client" in many.secrets
    assert "1111.2222" not in many.secrets  # public: it is in every install link
    assert not load_settings({"SLACK_CLIENT_ID": "1111.2222"}).slack_many_workspaces
    one = load_settings(env | {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert not one.slack_many_workspaces  # a bot token keeps the single-workspace mode


def home_channels(view: dict[str, Any]) -> list[str]:
    """The channels of the Home tab's daily list: each Change button's value."""
    return [
        b["accessory"]["value"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == CHANGE
    ]


async def test_the_daily_form_and_the_home_tab_keep_to_their_own_workspace(
    fake_slack: FakeSlack, platform: SlackPlatform, many_core: Core
) -> None:
    await install(fake_slack, platform, TEAM_ID)
    await install(fake_slack, platform, SECOND_TEAM_ID)
    # 06:45 in the first workspace, in a channel of the same id.
    await many_core.daily.turn_on("slack", FIRST, time(6, 45), "Europe/Berlin", None, ADMIN_ID)

    opened = await open_form(fake_slack, platform, ADMIN_ID, team_id=SECOND_TEAM_ID)
    assert opened.bearer == f"{SECOND_TEAM_ID}#2"
    assert "06:45" not in json.dumps(opened.response["view"])  # not the other's schedule
    values = form_values(CHANNEL_ID, "07:30", "Europe/Berlin", ANY_THEME)
    submitted = view_submission_payload(
        opened.response["view"], values, user_id=ADMIN_ID, team_id=SECOND_TEAM_ID
    )
    assert await interact(platform, submitted) is None
    confirmed = await fake_slack.next_call("chat.postEphemeral")
    assert confirmed.bearer == f"{SECOND_TEAM_ID}#2" and confirmed.args["channel"] == CHANNEL_ID

    store = many_core.daily.store
    second, first = await store.schedule("slack", SECOND), await store.schedule("slack", FIRST)
    assert second is not None and second.local_time == time(7, 30)
    assert first is not None and first.local_time == time(6, 45)

    for team in (SECOND_TEAM_ID, TEAM_ID):
        await home_opened(platform, ADMIN_ID, team_id=team)
        published = await fake_slack.next_call("views.publish")
        assert published.bearer is not None and published.bearer.startswith(f"{team}#")
        assert home_channels(fake_slack.home_views[ADMIN_ID]) == [CHANNEL_ID]  # its own only
