"""The installs' storage port: one row per workspace the app is installed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Install:
    """The app installed in one workspace: what its bot posts with. `enterprise_id` is ''
    outside Enterprise Grid; `team_id` is '' for an install across a whole Grid organisation
    (Slack's org-wide install); `bot_refresh_token` and `bot_token_expires_at` are set when
    the app rotates its tokens. Its repr leaves the tokens out."""

    platform: str
    enterprise_id: str
    team_id: str
    team_name: str
    app_id: str
    bot_token: str = field(repr=False)  # secrets: kept out of logs and tracebacks
    bot_id: str
    bot_user_id: str
    bot_scopes: str
    installer_id: str
    installed_at: datetime
    bot_refresh_token: str | None = field(default=None, repr=False)
    bot_token_expires_at: datetime | None = None


class InstallStore(Protocol):
    """Installs keyed by (platform, enterprise id, team id)."""

    async def save(self, install: Install) -> None:
        """Create or replace the workspace's install (a reinstall, or a rotated token)."""
        ...

    async def find(self, platform: str, enterprise_id: str, team_id: str) -> Install | None:
        """The workspace's install, or None when the app is not installed there."""
        ...

    async def find_workspace(self, platform: str, workspace_id: str) -> Install | None:
        """The install that serves `workspace_id`: a team's own, or else the org-wide install
        of the organisation `workspace_id` names (an enterprise id)."""
        ...

    async def delete(self, platform: str, enterprise_id: str, team_id: str) -> bool:
        """Forget the workspace's install (uninstalled, tokens revoked); False if none."""
        ...

    async def renew(self, install: Install, renewal: Renewal) -> Install | None:
        """`install` as stored now, after `renewal` ran on it with this install locked against
        every other task and process (one token refresh in flight per install); what
        `renewal` returns is saved in the same transaction. None if the install is gone."""
        ...

    async def check_tokens(self) -> None:
        """ConfigError when LAMBERT_SECRET_KEY cannot open the stored tokens; a warning when
        some are stored in clear (checked once, when the state opens)."""
        ...

    async def reseal(self) -> int:
        """Encrypt every install's tokens with LAMBERT_SECRET_KEY's first key; how many."""
        ...


# Given the install as stored once its lock is held: a renewed install to save, or None when
# it needs nothing (another task or process renewed it meanwhile).
Renewal = Callable[[Install], Awaitable[Install | None]]
