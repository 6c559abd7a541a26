"""Slack in many workspaces: bolt's OAuth flow over lambert's own database, and each
workspace's bot token (refreshed when due) for work done outside any request.

The installs port (bot/installs) holds plain data; this module alone converts it to and from
slack_sdk's Installation and Bot. A workspace's channels are keyed "WORKSPACE/CHANNELID" in the
core (schedules, days, bags, previews): a Slack Connect channel has one id in every
workspace sharing it, so the channel id alone would mix two workspaces' schedules (keys.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.oauth_state import SignedStates
from bot.config import Settings
from bot.installs.store import Install
from bot.ports import PermanentPostError, PostError, TransientPostError

if TYPE_CHECKING:
    from bot.installs.sql_store import StateInstallStore as InstallStore

log = logging.getLogger(__name__)

PLATFORM = "slack"
# Least privilege: the slash command, posting, and users.info for admin checks and zones.
SCOPES = ("commands", "chat:write", "users:read")
# Asked for too when LAMBERT_PUBLIC_URL is set: links to the site unfurl (slack/unfurl.py).
UNFURL_SCOPES = ("links:read", "links:write")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # an install started more than ten minutes ago must start again
# A bot token expiring within this many minutes is refreshed first (bolt's default), by
# WorkspaceTokens under the install's lock. bolt refreshes on its own (without the lock)
# only a token this close to expiring, when lambert's refresh failed for a while.
ROTATE_MINUTES = 120
BOLT_ROTATE_MINUTES = 10
UNINSTALLED = "the app was removed from this Slack workspace: install it again, then turn it on"
REVOKED = "the workspace revoked the app's bot token: install the app again, then turn it on"


def _epoch(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when else None


def _instant(epoch: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def _scopes(value: str | Sequence[str] | None) -> str:
    return value if isinstance(value, str) else ",".join(value or ())


class SlackInstallations(AsyncInstallationStore):
    """slack_sdk's installation store over lambert's InstallStore: bot installs only (lambert
    asks for no user token), one per workspace; an org-wide install (Enterprise Grid) is one
    row for the whole organisation, with no team."""

    def __init__(self, installs: InstallStore, tokens: WorkspaceTokens | None = None) -> None:
        self.installs = installs
        # With `tokens`, an install found for bolt has its token refreshed first when due,
        # under the install's lock (WorkspaceTokens.fresh), so bolt has none to refresh.
        self.tokens = tokens

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self.async_save_bot(installation.to_bot(), installer=installation.user_id)

    async def async_save_bot(self, bot: Bot, installer: str | None = None) -> None:
        org_wide = bool(bot.is_enterprise_install)
        found = await self._find(bot.enterprise_id, bot.team_id, org_wide)
        name = (bot.enterprise_name if org_wide else bot.team_name) or ""
        await self.installs.save(
            Install(
                platform=PLATFORM,
                enterprise_id=bot.enterprise_id or "",
                team_id="" if org_wide else bot.team_id or "",
                team_name=name or (found.team_name if found else ""),
                app_id=bot.app_id or "",
                bot_token=bot.bot_token,
                bot_id=bot.bot_id,
                bot_user_id=bot.bot_user_id,
                bot_scopes=_scopes(bot.bot_scopes),
                installer_id=installer or (found.installer_id if found else ""),
                installed_at=_instant(bot.installed_at) or datetime.now(UTC),
                bot_refresh_token=bot.bot_refresh_token,
                bot_token_expires_at=_instant(bot.bot_token_expires_at),
            )
        )

    async def _find(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool | None
    ) -> Install | None:
        # A request from any workspace of an organisation that installed the app org-wide
        # names that workspace's team, but the install is the organisation's (no team).
        team = "" if org_wide else team_id or ""
        found = await self.installs.find(PLATFORM, enterprise_id or "", team)
        if found is None or self.tokens is None:
            return found
        try:
            return await self.tokens.fresh(found)
        except PostError as exc:
            # The token is still good for a while (it was due, not expired): this request
            # uses it, and bolt refreshes it itself only in its last BOLT_ROTATE_MINUTES.
            log.warning("slack: %s (workspace %s)", exc, owner(found))
            return found

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self._find(enterprise_id, team_id, is_enterprise_install)
        return to_installation(found).to_bot() if found else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        if user_id is not None:
            return None  # a user's own installation: lambert keeps no user tokens
        found = await self._find(enterprise_id, team_id, is_enterprise_install)
        return to_installation(found) if found else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.installs.delete(PLATFORM, enterprise_id or "", team_id or "")

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        if user_id is None:
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


def to_installation(found: Install) -> Installation:
    org_wide = not found.team_id and bool(found.enterprise_id)
    return Installation(
        app_id=found.app_id,
        enterprise_id=found.enterprise_id or None,
        enterprise_name=found.team_name if org_wide else None,
        team_id=found.team_id or None,
        team_name=None if org_wide else found.team_name,
        is_enterprise_install=org_wide,
        bot_token=found.bot_token,
        bot_id=found.bot_id,
        bot_user_id=found.bot_user_id,
        bot_scopes=found.bot_scopes,
        bot_refresh_token=found.bot_refresh_token,
        bot_token_expires_at=_epoch(found.bot_token_expires_at),
        user_id=found.installer_id,
        installed_at=found.installed_at.timestamp(),
    )


def oauth_settings(
    settings: Settings, installs: InstallStore, tokens: WorkspaceTokens | None = None
) -> AsyncOAuthSettings:
    """bolt's OAuth flow for lambert: minimal scopes, installs in the database (refreshed
    through `tokens` when given), states signed (oauth_state.py: an unauthenticated install
    page writes nothing)."""
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.reveal(),
        scopes=[*SCOPES, *(UNFURL_SCOPES if settings.public_url else ())],
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=tokens.installations if tokens else SlackInstallations(installs),
        state_store=SignedStates(settings.slack_client_secret.reveal(), STATE_SECONDS),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=BOLT_ROTATE_MINUTES,
    )


class WorkspaceTokens:
    """Each workspace's bot token for posts made outside a request (the daily quote) and for
    bolt's requests (through `installations`), refreshed through oauth.v2.access first when
    it expires within ROTATE_MINUTES.

    Slack's refresh tokens are single-use: two refreshes with one token leave the second
    with invalid_refresh_token. So a refresh runs under the install's lock (InstallStore.renew:
    one in flight per install across tasks and processes), on the install as stored once
    the lock is held, and only if that one is still due: five channels of a workspace due
    together refresh once, and the others post with the token it saved.
    """

    def __init__(self, settings: Settings, installs: InstallStore, client: AsyncWebClient) -> None:
        self.installs = installs
        self.installations = SlackInstallations(installs, self)
        self.client = client  # its base_url, timeout and retry policy; its token is unused
        self.rotator = AsyncTokenRotator(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.reveal(),
            client=client,
        )

    async def client_for(self, workspace: str) -> AsyncWebClient:
        """A web client holding the bot token of `workspace` (a team id, or an org-wide
        install's enterprise id: keys.workspace_of); TransientPostError when the app is not
        installed there yet or a refresh failed for now."""
        if not workspace:  # never keyed: see `lambert slack adopt`
            raise TransientPostError(
                "this channel names no workspace: run `lambert slack adopt --workspace T...` once"
            )
        found = await self.installs.find_workspace(PLATFORM, workspace)
        if found is not None:
            found = await self.fresh(found)
        if found is None:
            # A workspace moved from one token installs through /slack/install only once
            # this lambert serves, so its posts wait; one that removed the app has its
            # schedules turned off by that event (removal.py).
            raise TransientPostError(
                f"waiting for the app to be installed in Slack workspace {workspace} "
                "(/slack/install)"
            )
        return with_token(self.client, found.bot_token)

    async def fresh(self, found: Install) -> Install | None:
        """`found` with a bot token that is not due for a refresh: refreshed (once, under the
        install's lock) when it is; None if the install is gone meanwhile.
        PermanentPostError when Slack says the app's tokens were revoked, TransientPostError
        when the refresh failed for now."""
        if not _due(found):
            return found
        refreshed: list[Install] = []

        async def refresh(current: Install) -> Install | None:
            if not _due(current):
                return None  # another task or process refreshed it while this one waited
            renewed = await self._refresh(current)
            refreshed.append(renewed)
            return renewed

        try:
            kept = await self.installs.renew(found, refresh)
        except _SpentRefresh:
            # Refused although the lock was held: spent by a process outside it (bolt's own
            # last-resort rotation, an older lambert). If that one saved its token, use it;
            # else nothing is lost yet (the token is valid for a while): try again later.
            again = await self.installs.find(found.platform, found.enterprise_id, found.team_id)
            if again is not None and again.bot_refresh_token != found.bot_refresh_token:
                return again
            raise TransientPostError(
                "could not refresh the bot token (invalid_refresh_token: another process "
                "spent it); trying again later"
            ) from None
        if refreshed and kept is not None:
            log.info("slack: refreshed the bot token of workspace %s", owner(kept))
        return kept

    async def _refresh(self, current: Install) -> Install:
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
                raise PermanentPostError(f"Slack refused to refresh the token ({code})") from None
            raise TransientPostError(f"could not refresh the bot token ({code})") from None
        if rotated is None:  # not a bot token in the answer: keep the one there is
            raise TransientPostError("could not refresh the bot token (no bot token answered)")
        return replace(
            current,
            bot_token=rotated.bot_token,
            bot_refresh_token=rotated.bot_refresh_token,
            bot_token_expires_at=_instant(rotated.bot_token_expires_at),
        )


class _SpentRefresh(Exception):
    """oauth.v2.access answered invalid_refresh_token: the stored refresh token is spent."""


def _due(install: Install) -> bool:
    """Whether the install's bot token expires within ROTATE_MINUTES (and can be refreshed)."""
    expires = install.bot_token_expires_at
    if not install.bot_refresh_token or expires is None:
        return False
    return expires <= datetime.now(UTC) + timedelta(minutes=ROTATE_MINUTES)


def owner(install: Install) -> str:
    """The workspace id the install's channels are keyed by (keys.workspace_of)."""
    return install.team_id or install.enterprise_id


def with_token(client: AsyncWebClient, token: str) -> AsyncWebClient:
    """`client` (base_url, timeout, retries) with another token."""
    return AsyncWebClient(
        token=token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=client.retry_handlers,
        session=client.session,
    )


@asynccontextmanager
async def open_installs(settings: Settings) -> AsyncIterator[InstallStore]:
    """The installs in the shared state `settings` name, for a poster opened without the
    core (`lambert daily tick`): PostgreSQL with a database URL, else the SQLite file."""
    from bot.installs.sealing import TokenSeal
    from bot.installs.sql_store import StateInstallStore
    from bot.storage.engine import open_engine

    url = settings.database_url.reveal() if settings.database_url else ""
    async with open_engine(settings.db_path, url) as engine:
        installs = StateInstallStore(engine, TokenSeal(settings.secret_key.reveal()))
        await installs.check_tokens()
        yield installs
