"""app_uninstalled and tokens_revoked: forget an install really gone, its daily quotes off."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.request.internals import extract_enterprise_id
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.after_ack import Listener, Respond, acked
from bot.adapters.slack.oauth import PLATFORM, REVOKED, UNINSTALLED, owner
from bot.adapters.slack.payload import channel_key, workspace_of

log = logging.getLogger(__name__)


class Removals(Listener):
    many: bool

    # Acked before the auth.test below: Slack resends an event not acked in 3 s.
    @acked("handling a removal event")
    async def removed(self, body: dict[str, Any], _: Respond, client: AsyncWebClient) -> None:
        event = body.get("event") or {}
        kind = str(event.get("type") or "")
        if kind == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # a user's token: lambert keeps none
        workspace = workspace_of(body)
        installs = self.core.installs
        if not self.many or installs is None:
            # One workspace: SLACK_BOT_TOKEN must be replaced; until then posts fail, saying why.
            log.warning("slack: %s for workspace %s", kind, workspace or "-")
            return
        # The workspace's own install, else its organisation's org-wide one: payloads differ
        # in where they name the organisation.
        found = await installs.find_workspace(PLATFORM, workspace) if workspace else None
        if found is None and (enterprise := extract_enterprise_id(body)):
            found = await installs.find(PLATFORM, enterprise, "")
        if found is not None:
            # An organisation's admin can remove an org-wide app from one of its workspaces,
            # the install and token staying: an install whose token still works is kept.
            try:
                await client.auth_test(token=found.bot_token)
            except (SlackApiError, aiohttp.ClientError, TimeoutError):
                pass  # refused, or no answer to say otherwise: the event is taken at its word
            else:
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
        stopped = await self.core.daily.turn_off_where("slack", channel_key(workspace, ""), reason)
        log.info(
            "slack: workspace %s removed the app (%s); %d daily quotes off",
            workspace,
            kind,
            stopped,
        )
