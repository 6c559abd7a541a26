"""From one workspace to many: the channels named bare in single-token days, keyed by the
workspace of that token (recorded from auth.test, or named by the operator)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.oauth import PLATFORM
from bot.adapters.slack.poster import check_token, web_client
from bot.config import ConfigError, Settings
from bot.platforms import WORKSPACE_ID, shown
from bot.runtime import Core, open_core

log = logging.getLogger(__name__)

ADOPT = "run `lambert slack adopt` once with the old SLACK_BOT_TOKEN set (or --workspace T...)"
USE_THE_OLD_ONE = "set it to the bot token the single-workspace bot used, or pass --workspace T..."
NO_WORKSPACE = "set SLACK_BOT_TOKEN to the token the bot used before, or pass --workspace T..."


def _many(count: int, thing: str, things: str) -> str:
    return f"{count} {thing if count == 1 else things}"


@dataclass(frozen=True, slots=True)
class Adopted:
    """What was keyed by `workspace`, feature by feature."""

    workspace: str
    schedules: int = 0
    days: int = 0
    bags: int = 0
    previews: int = 0
    stats_rows: int = 0
    installed: bool | None = None
    """Whether the app is installed in `workspace` yet (its posts wait until it is); None
    when not asked."""

    @property
    def moved(self) -> int:
        return self.schedules + self.days + self.bags + self.previews + self.stats_rows

    def summary(self) -> str:
        """One line: "3 schedules, 41 days, 2 bags, 5 previews, 12 stats rows"."""
        return ", ".join(
            (
                _many(self.schedules, "schedule", "schedules"),
                _many(self.days, "day", "days"),
                _many(self.bags, "bag", "bags"),
                _many(self.previews, "preview", "previews"),
                _many(self.stats_rows, "stats row", "stats rows"),
            )
        )


def checked_workspace(workspace_id: str) -> str:
    """`workspace_id` if it looks like a Slack team or enterprise id, else ConfigError."""
    if not WORKSPACE_ID.fullmatch(workspace_id):
        raise ConfigError(
            f"{shown(workspace_id)} is not a Slack workspace id: a team id like T0123ABCD "
            "(or an Enterprise Grid organisation's, E0123ABCD), in capitals"
        )
    return workspace_id


async def adopt_workspace(core: Core, workspace_id: str) -> Adopted:
    """Key every Slack channel named without a workspace by `workspace_id`.

    Previews and stats first, the daily state last: a later start checks the daily schedules
    for bare names, so a crash between leaves the work visible and the run repeatable (each
    step moves only what is still bare).
    """
    # The stores no longer re-key (issue 18): the Alembic data migration of the Slack keying
    # work does it once. Until it lands, nothing is moved here.
    return Adopted(checked_workspace(workspace_id))


async def before_posting(settings: Settings, core: Core) -> None:
    """`lambert daily tick` with many workspaces (platforms.Platform.before_posting): what
    SlackPlatform.start does before it serves, so channels named bare get their workspace."""
    if settings.slack_many_workspaces:
        await adopt_recorded(core)


async def adopt_recorded(core: Core) -> Adopted | None:
    """At a many-workspace start: key the bare Slack channels by the workspace recorded for
    the single token, saying so in one line if anything moved; None (and one warning line
    if there is daily state to move) when no workspace was ever recorded."""
    recorded = await core.installs.token_workspace(PLATFORM) if core.installs else None
    if recorded is None:
        schedules = await core.daily.store.schedules()
        bare = sum(1 for s in schedules if s.platform == PLATFORM and "/" not in s.channel)
        if bare:
            log.warning(
                "%s from the single-token days name no workspace, so they cannot post with "
                "many workspaces: %s",
                _many(bare, "Slack daily schedule", "Slack daily schedules"),
                ADOPT,
            )
        return None
    adopted = await adopt_workspace(core, recorded)
    if adopted.moved:
        log.info(
            "Slack channels of the single-token days keyed by workspace %s: %s",
            recorded,
            adopted.summary(),
        )
    return adopted


async def token_workspace_id(client: AsyncWebClient) -> str:
    """The workspace of `client`'s token, by auth.test (poster.check_token): the organisation's
    id for an org-wide Enterprise Grid install, else the team id. ConfigError for a token
    Slack rejects, ConnectionError while Slack cannot be reached or fails."""
    try:
        return await check_token(client, fix=USE_THE_OLD_ONE)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ConnectionError(f"could not reach Slack ({type(exc).__name__})") from None


async def adopt_for_operator(
    settings: Settings, workspace_id: str | None = None, *, client: AsyncWebClient | None = None
) -> Adopted:
    """`lambert slack adopt`: the workspace named, else SLACK_BOT_TOKEN's (auth.test), else the
    one recorded; recorded for later starts, then adopted. ConfigError when none is known."""
    if workspace_id is not None:
        checked_workspace(workspace_id)
    elif settings.slack_bot_token:
        workspace_id = checked_workspace(await token_workspace_id(client or web_client(settings)))
    async with open_core(settings, integrity_check=True) as core:  # it writes
        if core.installs is None:  # open_core always has them; a Core built by hand may not
            raise ConfigError("this lambert keeps no installs: nothing to adopt into")
        if workspace_id is None:
            workspace_id = await core.installs.token_workspace(PLATFORM)
            if workspace_id is None:
                raise ConfigError(f"no workspace is recorded for the old bot token: {NO_WORKSPACE}")
        else:
            await core.installs.remember_token_workspace(PLATFORM, workspace_id, datetime.now(UTC))
        adopted = await adopt_workspace(core, workspace_id)
        installed = await core.installs.find_workspace(PLATFORM, workspace_id) is not None
        return replace(adopted, installed=installed)
