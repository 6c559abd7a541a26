"""Slack Enterprise Grid, and what a token problem says with many workspaces.

An organisation can install the app once for all of its workspaces (org-wide: one token, an
enterprise id and no team) or each workspace on its own (a team id inside the organisation).
bolt's real OAuth flow and authorize run against the fake Slack, which answers both kinds;
every test runs on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time

import pytest

from bot.adapters.slack.app import SlackPlatform
from bot.adapters.slack.blocks import POST
from bot.adapters.slack.modal import ANY_THEME, CHANGE, ZONE, ZONE_BLOCK
from bot.adapters.slack.oauth import PLATFORM, UNINSTALLED
from bot.adapters.slack.poster import open_slack_poster, permanent_reason, web_client
from bot.config import Secret, Settings
from bot.ports import TransientPostError
from bot.runtime import Core
from tests.fakes.slack_platform import (
    ADMIN_ID,
    CHANNEL_ID,
    GRID_TEAM_ID,
    ORG_ID,
    OTHER_GRID_TEAM_ID,
    TEAM_ID,
    FakeSlack,
    block_suggestion_payload,
    removal_event,
    view_submission_payload,
)
from tests.support.slack import (
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
ORG_CHANNEL = f"{ORG_ID}/{CHANNEL_ID}"  # a channel of a workspace of the organisation
TEAM_CHANNEL = f"{TEAM_ID}/{CHANNEL_ID}"  # a channel of a workspace outside it


async def test_an_organisation_installs_once_and_each_of_its_workspaces_uses_that_token(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core
) -> None:
    await install(fake_slack, many_platform, ORG_ID)

    assert many_core.installs is not None
    saved = await many_core.installs.find(PLATFORM, ORG_ID, "")
    assert saved is not None and saved.team_name == "Grid Org"
    assert await many_core.installs.find_workspace(PLATFORM, ORG_ID) == saved
    token = f"{ORG_ID}#1"

    # Two workspaces of the organisation: both answered with the organisation's token, and
    # both channels named by the organisation (its channel ids are unique across it).
    for team, channel in ((GRID_TEAM_ID, CHANNEL_ID), (OTHER_GRID_TEAM_ID, "C0OTHER")):
        fields = {"user_id": ADMIN_ID, "team_id": team, "channel_id": channel, "org_wide": True}
        reply = await slash(fake_slack, many_platform, TURN_ON, **fields)
        assert "09:00" in str(reply.body), reply.body
    assert [c.bearer for c in fake_slack.calls("users.info")] == [token, token]
    names = {s.channel for s in await many_core.daily.store.schedules()}
    assert names == {ORG_CHANNEL, f"{ORG_ID}/C0OTHER"}

    # A preview's Post, clicked in a workspace of the organisation (Slack sends no `team`).
    preview = (await slash(fake_slack, many_platform, "", team_id=GRID_TEAM_ID, org_wide=True)).body
    await click(fake_slack, many_platform, preview, POST, team_id=GRID_TEAM_ID, org_wide=True)
    shared = await fake_slack.next_call("chat.postMessage")
    assert shared.bearer == token and shared.args["channel"] == CHANNEL_ID


async def test_daily_posts_go_out_with_the_organisations_token_and_a_teams_own(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core
) -> None:
    await install(fake_slack, many_platform, ORG_ID)
    await install(fake_slack, many_platform, TEAM_ID)
    await turn_on_at_nine(many_core, ORG_CHANNEL, TEAM_CHANNEL)

    await tick_at(many_core, many_platform, next_nine_in_berlin())

    sent = posts_by_token(fake_slack)
    assert set(sent) == {f"{ORG_ID}#1", f"{TEAM_ID}#2"}
    assert all(call.args["channel"] == CHANNEL_ID for call in sent.values())


async def test_an_org_wide_token_about_to_expire_is_refreshed_and_stays_the_organisations(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core
) -> None:
    fake_slack.token_seconds[ORG_ID] = 60  # rotation on, inside the refresh window
    await install(fake_slack, many_platform, ORG_ID)
    await turn_on_at_nine(many_core, ORG_CHANNEL)

    await tick_at(many_core, many_platform, next_nine_in_berlin())

    assert set(posts_by_token(fake_slack)) == {f"{ORG_ID}#2"}  # the refreshed token
    assert many_core.installs is not None
    saved = await many_core.installs.find(PLATFORM, ORG_ID, "")
    assert saved is not None and fake_slack.tokens[saved.bot_token] == f"{ORG_ID}#2"
    assert saved.team_name == "Grid Org" and saved.installer_id == ADMIN_ID
    assert await many_core.installs.find(PLATFORM, "", "") is None  # no team-less stray row


@pytest.mark.parametrize("authorizations", [True, False], ids=["authorized", "bare"])
async def test_an_organisation_that_removes_the_app_stops_while_a_workspace_keeps_posting(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core, authorizations: bool
) -> None:
    """Slack names a workspace of the organisation in the event's team_id, and the
    organisation in enterprise_id; with or without `authorizations`, the org-wide install
    is the one found, and it is forgotten once its token no longer works."""
    await install(fake_slack, many_platform, ORG_ID)
    await install(fake_slack, many_platform, TEAM_ID)
    await turn_on_at_nine(many_core, ORG_CHANNEL, TEAM_CHANNEL)

    fake_slack.revoke_team(ORG_ID)
    event = removal_event(
        "app_uninstalled", GRID_TEAM_ID, org_wide=True, authorizations=authorizations
    )
    await send_event(many_platform, event)

    store = many_core.daily.store
    org, team = (
        await store.schedule("slack", ORG_CHANNEL),
        await store.schedule("slack", TEAM_CHANNEL),
    )
    assert org is not None and not org.enabled and org.disabled_reason == UNINSTALLED
    assert team is not None and team.enabled
    assert many_core.installs is not None
    assert await many_core.installs.find_workspace(PLATFORM, ORG_ID) is None
    assert await many_core.installs.find_workspace(PLATFORM, TEAM_ID) is not None

    await tick_at(many_core, many_platform, next_nine_in_berlin())
    assert set(posts_by_token(fake_slack)) == {f"{TEAM_ID}#2"}


async def test_removing_the_app_from_one_workspace_of_an_organisation_keeps_its_install(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core
) -> None:
    """An org admin can take an org-wide app out of one workspace: the organisation's token
    still works, so its install and its other channels' daily quotes stay."""
    await install(fake_slack, many_platform, ORG_ID)
    await turn_on_at_nine(many_core, ORG_CHANNEL)

    event = removal_event("app_uninstalled", OTHER_GRID_TEAM_ID, authorizations=False)
    await send_event(many_platform, event)

    assert many_core.installs is not None
    assert await many_core.installs.find_workspace(PLATFORM, ORG_ID) is not None
    kept = await many_core.daily.store.schedule("slack", ORG_CHANNEL)
    assert kept is not None and kept.enabled
    assert [c.bearer for c in fake_slack.calls("auth.test")][-1] == f"{ORG_ID}#1"  # asked
    await tick_at(many_core, many_platform, next_nine_in_berlin())
    assert set(posts_by_token(fake_slack)) == {f"{ORG_ID}#1"}


async def test_the_daily_form_and_the_home_tab_of_an_org_wide_install(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core
) -> None:
    """The form's submission and its time zone menu, and the Home tab, come from a workspace
    of the organisation: all answered with the organisation's token, its channels named by
    the organisation."""
    await install(fake_slack, many_platform, ORG_ID)
    token = f"{ORG_ID}#1"
    where = {"team_id": GRID_TEAM_ID, "org_wide": True}

    opened = await open_form(fake_slack, many_platform, ADMIN_ID, **where)
    assert opened.bearer == token
    view = opened.response["view"]
    options = await interact(
        many_platform,
        block_suggestion_payload(view, ZONE_BLOCK, ZONE, "berl", user_id=ADMIN_ID, **where),
    )
    assert options is not None and "Europe/Berlin" in json.dumps(options)
    values = form_values(CHANNEL_ID, "07:30", "Europe/Berlin", ANY_THEME)
    submitted = view_submission_payload(view, values, user_id=ADMIN_ID, **where)
    assert await interact(many_platform, submitted) is None
    confirmed = await fake_slack.next_call("chat.postEphemeral")
    assert confirmed.bearer == token and confirmed.args["channel"] == CHANNEL_ID
    saved = await many_core.daily.store.schedule("slack", ORG_CHANNEL)
    assert saved is not None and saved.local_time == time(7, 30)

    await home_opened(many_platform, ADMIN_ID, team_id=OTHER_GRID_TEAM_ID, org_wide=True)
    published = await fake_slack.next_call("views.publish")
    assert published.bearer == token
    changes = [
        b["accessory"]["value"]
        for b in fake_slack.home_views[ADMIN_ID]["blocks"]
        if b.get("accessory", {}).get("action_id") == CHANGE
    ]
    assert changes == [CHANNEL_ID]  # the organisation's channel, shown by its id


async def test_a_workspace_of_an_organisation_installed_on_its_own_uses_its_own_token(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core
) -> None:
    """Installed for one workspace of an organisation: the install has both ids, and a
    daily post (which knows only the workspace) still finds it."""
    await install(fake_slack, many_platform, GRID_TEAM_ID)
    assert many_core.installs is not None
    saved = await many_core.installs.find(PLATFORM, ORG_ID, GRID_TEAM_ID)
    assert saved is not None and saved.team_name == "Grid A"

    reply = await slash(fake_slack, many_platform, TURN_ON, user_id=ADMIN_ID, team_id=GRID_TEAM_ID)
    assert "09:00" in str(reply.body), reply.body
    assert [c.bearer for c in fake_slack.calls("users.info")] == [f"{GRID_TEAM_ID}#1"]
    grid_channel = f"{GRID_TEAM_ID}/{CHANNEL_ID}"
    assert [s.channel for s in await many_core.daily.store.schedules()] == [grid_channel]

    await tick_at(many_core, many_platform, next_nine_in_berlin())
    assert set(posts_by_token(fake_slack)) == {f"{GRID_TEAM_ID}#1"}


async def test_a_revoked_token_with_many_workspaces_says_to_install_again(
    fake_slack: FakeSlack, many_platform: SlackPlatform, many_core: Core
) -> None:
    """No SLACK_BOT_TOKEN to update with many workspaces: the reason names the install."""
    await install(fake_slack, many_platform, TEAM_ID)
    await turn_on_at_nine(many_core, TEAM_CHANNEL)
    fake_slack.revoke_team(TEAM_ID)  # and the event never arrived

    await tick_at(many_core, many_platform, next_nine_in_berlin())

    schedule = await many_core.daily.store.schedule("slack", TEAM_CHANNEL)
    assert schedule is not None and not schedule.enabled
    reason = schedule.disabled_reason or ""
    assert "/slack/install" in reason and "token_revoked" in reason
    assert "SLACK_BOT_TOKEN" not in reason


@pytest.mark.parametrize(
    "code", ["account_inactive", "invalid_auth", "not_authed", "token_revoked", "token_expired"]
)
def test_each_token_problem_names_the_fix_of_its_mode(code: str) -> None:
    one, many = permanent_reason(code), permanent_reason(code, many=True)
    assert one is not None and "SLACK_BOT_TOKEN" in one and "/slack/install" not in one
    assert many is not None and "/slack/install" in many and "SLACK_BOT_TOKEN" not in many
    assert permanent_reason("channel_not_found", many=True) == permanent_reason("channel_not_found")
    assert permanent_reason("ratelimited") is None


async def test_a_channel_named_before_many_workspaces_waits_for_adoption(
    fake_slack: FakeSlack,
    many_platform: SlackPlatform,
    many_core: Core,
    settings: Settings,
    backend_url: str | None,
) -> None:
    """A bare channel id (a schedule made with SLACK_BOT_TOKEN) names no workspace: its post
    is put off with the fix, never sent with some other workspace's token, and the schedule
    stays on (a permanent error would switch it off)."""
    await install(fake_slack, many_platform, TEAM_ID)
    many = oauth_settings(settings, database_url=Secret(backend_url or ""))
    quote = await many_core.quotes.random_quote()
    assert quote is not None

    client = web_client(many, base_url=fake_slack.api_url)
    async with open_slack_poster(many, io.StringIO(), client=client) as poster:
        with pytest.raises(TransientPostError, match="lambert slack adopt"):
            await poster.post_daily(CHANNEL_ID, quote, datetime.now(UTC).date())
    assert fake_slack.calls("chat.postMessage") == []
