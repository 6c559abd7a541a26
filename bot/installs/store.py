"""The installs' storage port: one row per workspace the app is installed in, and OAuth states."""

from __future__ import annotations

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
    """Installs keyed by (platform, enterprise id, team id); states good once, until they expire."""

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

    async def issue_state(self, state: str, expires_at: datetime) -> None:
        """Remember an OAuth state handed to a browser, good until `expires_at`."""
        ...

    async def consume_state(self, state: str, now: datetime) -> bool:
        """Use the state up: True once if it was issued and has not expired."""
        ...

    async def remember_token_workspace(
        self, platform: str, workspace_id: str, at: datetime
    ) -> None:
        """Record the workspace the platform's one bot token belongs to (single-token mode,
        seen at `at`), replacing any earlier one: the workspace that the channels named
        without one are keyed by when the app moves to many workspaces."""
        ...

    async def token_workspace(self, platform: str) -> str | None:
        """The workspace last recorded by remember_token_workspace; None if never."""
        ...
