"""app_uninstalled and tokens_revoked (many workspaces): forget an install that is really
gone and switch its channels' daily quotes off, saying why.

Slack's removal events are not all alike: an organisation's admin can remove an org-wide app
from one of its workspaces (the organisation's install and token stay), and payloads differ
in where they name the organisation. So the install is found from the event (the workspace,
else the organisation's org-wide install) and then asked: only an install whose token Slack
now refuses is forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.request.internals import extract_enterprise_id
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.keys import workspace_of, workspace_prefix
from bot.adapters.slack.oauth import PLATFORM, REVOKED, UNINSTALLED, owner, with_token
from bot.installs.store import Install
from bot.runtime import Core
from bot.serving.inflight import InFlight

if TYPE_CHECKING:
    from bot.installs.sql_store import StateInstallStore as InstallStore

log = logging.getLogger(__name__)

# auth.test's answers for a token that no longer works: the install is gone.
TOKEN_GONE = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)

Ack = Callable[..., Awaitable[Any]]


async def token_refused(client: AsyncWebClient, token: str) -> bool | None:
    """Whether Slack now refuses `token` (True), still takes it (False), or cannot say (None:
    unreachable, or failing itself)."""
    try:
        await with_token(client, token).auth_test()
    except SlackApiError as exc:
        return True if str(exc.response.get("error") or "") in TOKEN_GONE else None
    except (aiohttp.ClientError, TimeoutError):
        return None
    return False


class Removals:
    """The removal events' listener; its work runs in a task tracked by `in_flight`."""

    def __init__(self, core: Core, in_flight: InFlight, *, many: bool) -> None:
        self.core = core
        self.in_flight = in_flight
        self.many = many

    async def removed(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()  # before the auth.test below: Slack resends an event not acked in 3 s
        self.in_flight.start(self._logging_failure(self.forget(body, client)), name="removal")

    async def _logging_failure(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("slack: handling a removal event failed")

    async def forget(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        event = body.get("event") or {}
        kind = str(event.get("type") or "")
        if kind == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # a user's token: lambert keeps none
        workspace = workspace_of(body)
        installs = self.core.installs
        if not self.many or installs is None:
            # One workspace: its token is gone, and SLACK_BOT_TOKEN must be replaced anyway;
            # the daily posts fail with the reason until then.
            log.warning("slack: %s for workspace %s", kind, workspace or "-")
            return
        found = await self._install_named(installs, body, workspace)
        if found is not None:
            if await token_refused(client, found.bot_token) is False:
                log.info(
                    "slack: %s for %s, but the install of %s still works: kept",
                    kind,
                    workspace or "-",
                    owner(found),
                )
                return
            await installs.delete(PLATFORM, found.enterprise_id, found.team_id)
            workspace = owner(found)
        if not workspace:
            log.warning("slack: %s names no workspace: nothing to do", kind)
            return
        reason = UNINSTALLED if kind == "app_uninstalled" else REVOKED
        stopped = await self.core.daily.turn_off_where("slack", workspace_prefix(workspace), reason)
        log.info(
            "slack: workspace %s removed the app (%s); %d daily quotes off",
            workspace,
            kind,
            stopped,
        )

    async def _install_named(
        self, installs: InstallStore, body: dict[str, Any], workspace: str
    ) -> Install | None:
        """The install the event is about: the workspace's own, or else its organisation's
        org-wide one (some payloads name the workspace but not the org-wide install)."""
        found = await installs.find_workspace(PLATFORM, workspace) if workspace else None
        enterprise = extract_enterprise_id(body)
        if found is None and enterprise:
            found = await installs.find(PLATFORM, enterprise, "")
        return found
