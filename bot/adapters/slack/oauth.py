"""Slack in many workspaces: bolt's OAuth flow over lambert's database, each workspace's token,
and the removal events (app_uninstalled, tokens_revoked) that forget an install really gone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.internals import extract_enterprise_id
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.after_ack import Listener, Respond, acked
from bot.adapters.slack.install_flow import SignedStates
from bot.adapters.slack.payload import channel_key, workspace_of
from bot.config import Settings
from bot.installs.store import Install
from bot.ports import PermanentPostError, PostError, TransientPostError

if TYPE_CHECKING:
    from bot.installs.store import StateInstallStore as InstallStore

log = logging.getLogger(__name__)

PLATFORM = "slack"
# Least privilege: the slash command, posting, and users.info for admin checks and zones.
SCOPES = ("commands", "chat:write", "users:read")
# Asked for too when LAMBERT_PUBLIC_URL is set: links to the site unfurl (listeners.py).
UNFURL_SCOPES = ("links:read", "links:write")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # an install started more than ten minutes ago must start again
# WorkspaceTokens refreshes, under the install's lock, a token expiring within ROTATE_MINUTES;
# bolt (without the lock) only one within BOLT_ROTATE_MINUTES, if lambert's kept failing.
ROTATE_MINUTES = 120
BOLT_ROTATE_MINUTES = 10
UNINSTALLED = "the app was removed from this Slack workspace: install it again, then turn it on"
REVOKED = "the workspace revoked the app's bot token: install the app again, then turn it on"


def _instant(epoch: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


# Install's fields that slack_sdk's Installation names alike: '' there is None here.
_ALIKE = ("app_id", "enterprise_id", "bot_token", "bot_id", "bot_user_id")


def _alike(source: Install | Installation, empty: str | None) -> dict[str, Any]:
    return {name: getattr(source, name) or empty for name in _ALIKE}


def to_installation(found: Install) -> Installation:
    org_wide = not found.team_id and bool(found.enterprise_id)
    expires = found.bot_token_expires_at
    return Installation(
        **_alike(found, None),
        enterprise_name=found.team_name if org_wide else None,
        team_name=None if org_wide else found.team_name,
        team_id=found.team_id or None,
        is_enterprise_install=org_wide,
        bot_scopes=found.bot_scopes,
        bot_refresh_token=found.bot_refresh_token,
        bot_token_expires_at=int(expires.timestamp()) if expires else None,
        user_id=found.installer_id,
        installed_at=found.installed_at.timestamp(),
    )


def oauth_settings(settings: Settings, tokens: WorkspaceTokens) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.reveal(),
        scopes=[*SCOPES, *(UNFURL_SCOPES if settings.public_url else ())],
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=tokens,
        state_store=SignedStates(settings.slack_client_secret.reveal(), STATE_SECONDS),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=BOLT_ROTATE_MINUTES,
    )


class WorkspaceTokens(AsyncInstallationStore):
    """Each workspace's bot token (bolt's installation store too), refreshed first when due,
    once: Slack's refresh tokens are single-use, so under the install's lock (renew)."""

    def __init__(self, settings: Settings, installs: InstallStore, client: AsyncWebClient) -> None:
        self.installs = installs
        self.rotator = AsyncTokenRotator(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.reveal(),
            client=client,
        )

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:  # OAuth, bolt's rotation
        org_wide = bool(installation.is_enterprise_install)
        name = installation.enterprise_name if org_wide else installation.team_name
        await self.installs.save(
            Install(
                platform=PLATFORM,
                **_alike(installation, ""),
                team_id="" if org_wide else installation.team_id or "",
                team_name=name or "",
                bot_scopes=",".join(installation.bot_scopes or ()),
                installer_id=installation.user_id,
                installed_at=datetime.fromtimestamp(installation.installed_at, UTC),
                bot_refresh_token=installation.bot_refresh_token,
                bot_token_expires_at=_instant(installation.bot_token_expires_at),
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The install a request is served with, refreshed first when due (bolt need not)."""
        if user_id is not None:
            return None  # a user's own installation: lambert keeps no user tokens
        # A request from any workspace of an organisation that installed the app org-wide
        # names that workspace's team, but the install is the organisation's (no team).
        team = "" if is_enterprise_install else team_id or ""
        found = await self.installs.find(PLATFORM, enterprise_id or "", team)
        if found is not None:
            try:
                found = await self.fresh(found)
            except PostError as exc:
                # The token is still good for a while (it was due, not expired): this request
                # uses it, and bolt refreshes it itself only in its last BOLT_ROTATE_MINUTES.
                log.warning("slack: %s (workspace %s)", exc, team or enterprise_id)
        return to_installation(found) if found else None

    async def token_for(self, workspace: str) -> str:
        """`workspace`'s bot token; TransientPostError while there is none yet."""
        if not workspace:  # never keyed: see `lambert slack adopt`
            raise TransientPostError(
                "this channel names no workspace: run `lambert slack adopt --workspace T...` once"
            )
        found = await self.installs.find_workspace(PLATFORM, workspace)
        if found is not None:
            found = await self.fresh(found)
        if found is None:
            # Not installed yet (one that removed the app had its schedules turned off).
            raise TransientPostError(
                f"waiting for the app to be installed in Slack workspace {workspace} "
                "(/slack/install)"
            )
        return found.bot_token

    async def fresh(self, found: Install) -> Install | None:
        """`found` with a token not due for a refresh; None if the install is gone meanwhile.
        PermanentPostError when the app's tokens were revoked."""
        if not _due(found):
            return found

        async def refresh(current: Install) -> Install | None:
            if not _due(current):
                return None  # another task or process refreshed it while this one waited
            bot = to_installation(current).to_bot()
            try:
                rotated = await self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=ROTATE_MINUTES
                )
            except (aiohttp.ClientError, TimeoutError) as exc:  # a refresh is a read: safe again
                # The type only: an aiohttp error's repr can hold the request's headers,
                # and oauth.v2.access sends the client secret in one.
                reason = f"could not refresh the bot token ({type(exc).__name__})"
                raise TransientPostError(reason) from None
            except SlackTokenRotationError as exc:
                code = str(exc.api_error.response.get("error") or "")
                if code == "invalid_refresh_token":
                    raise _SpentRefresh from None
                if code in ("token_revoked", "invalid_auth"):  # the app's tokens are revoked
                    raise PermanentPostError(
                        f"Slack refused to refresh the token ({code})"
                    ) from None
                raise TransientPostError(f"could not refresh the bot token ({code})") from None
            if rotated is None:  # not a bot token in the answer: keep the one there is
                raise TransientPostError("could not refresh the bot token (no bot token answered)")
            renewed = replace(
                current,
                bot_token=rotated.bot_token,
                bot_refresh_token=rotated.bot_refresh_token,
                bot_token_expires_at=_instant(rotated.bot_token_expires_at),
            )
            log.info("slack: refreshed the bot token of workspace %s", owner(renewed))
            return renewed

        try:
            return await self.installs.renew(found, refresh)
        except _SpentRefresh:
            # Spent outside the lock (bolt's last-resort rotation, an older lambert): use the
            # token it saved, else try again later (the old one is valid for a while).
            again = await self.installs.find(found.platform, found.enterprise_id, found.team_id)
            if again is not None and again.bot_refresh_token != found.bot_refresh_token:
                return again
            raise TransientPostError(
                "could not refresh the bot token (invalid_refresh_token: another process "
                "spent it); trying again later"
            ) from None


class _SpentRefresh(Exception):
    """oauth.v2.access answered invalid_refresh_token."""


def _due(install: Install) -> bool:
    expires = install.bot_token_expires_at
    if not install.bot_refresh_token or expires is None:
        return False
    return expires <= datetime.now(UTC) + timedelta(minutes=ROTATE_MINUTES)


def owner(install: Install) -> str:
    """The workspace id the install's channels are keyed by (payload.workspace_of)."""
    return install.team_id or install.enterprise_id


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
                kept = "slack: %s for %s, but the install of %s still works: kept"
                log.info(kept, kind, workspace or "-", owner(found))
                return
            await installs.delete(PLATFORM, found.enterprise_id, found.team_id)
            workspace = owner(found)
        if not workspace:
            log.warning("slack: %s names no workspace: nothing to do", kind)
            return
        reason = UNINSTALLED if kind == "app_uninstalled" else REVOKED
        stopped = await self.core.daily.turn_off_where("slack", channel_key(workspace, ""), reason)
        off = "slack: workspace %s removed the app (%s); %d daily quotes off"
        log.info(off, workspace, kind, stopped)


@asynccontextmanager
async def open_installs(settings: Settings) -> AsyncIterator[InstallStore]:
    """The installs, for a poster opened without the core (`lambert daily tick`)."""
    from bot.installs.store import StateInstallStore, TokenSeal
    from bot.storage.engine import open_engine

    url = settings.database_url.reveal() if settings.database_url else ""
    async with open_engine(settings.db_path, url) as engine:
        installs = StateInstallStore(engine, TokenSeal(settings.secret_key.reveal()))
        await installs.check_tokens()
        yield installs
