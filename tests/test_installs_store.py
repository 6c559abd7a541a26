"""The installs store on SQLite and PostgreSQL: which install serves a workspace, and an
install's repr keeping its tokens out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.installs.store import Install
from bot.runtime import Core

NOW = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
TEAM = "T0TEAM"
ORG = "E0ORG"


def install(enterprise: str, team: str, at: datetime, token: str) -> Install:
    return Install(
        "slack", enterprise, team, "Team", "A0APP", token, "B0", "U0BOT", "chat:write", "U0", at
    )


# A team installed alone ('' enterprise), and again after it joined a Grid organisation: both
# rows serve the team, and the newer one is what Slack last gave; in either order of age.
@pytest.mark.parametrize("newer", ["", ORG])
async def test_a_team_with_two_installs_is_served_by_the_newest(
    many_core: Core, newer: str
) -> None:
    store = many_core.installs
    assert store is not None
    older = ORG if newer == "" else ""
    await store.save(install(older, TEAM, NOW, "xoxb-older"))
    await store.save(install(newer, TEAM, NOW + timedelta(days=1), "xoxb-newer"))

    found = await store.find_workspace("slack", TEAM)

    assert found is not None and (found.enterprise_id, found.bot_token) == (newer, "xoxb-newer")


async def test_an_organisation_id_finds_its_org_wide_install(many_core: Core) -> None:
    store = many_core.installs
    assert store is not None
    await store.save(install(ORG, "", NOW, "xoxb-org"))
    await store.save(install(ORG, TEAM, NOW + timedelta(days=1), "xoxb-team"))

    org = await store.find_workspace("slack", ORG)
    team = await store.find_workspace("slack", TEAM)

    assert org is not None and org.bot_token == "xoxb-org"
    assert team is not None and team.bot_token == "xoxb-team"
    assert await store.find_workspace("slack", "T0NONE") is None


def test_an_install_repr_holds_neither_token() -> None:
    rotating = replace(
        install("", TEAM, NOW, "xoxb-secret-bot-token"),
        bot_refresh_token="xoxe-1-secret-refresh",
        bot_token_expires_at=NOW,
    )
    shown = repr(rotating)
    assert "xoxb-secret-bot-token" not in shown and "xoxe-1-secret-refresh" not in shown
    assert "T0TEAM" in shown  # the rest is still there to read
