"""An install: one row per workspace the app is installed in (stored by sql_store.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Install:
    """The app installed in one workspace. `enterprise_id` is '' outside Enterprise Grid;
    `team_id` is '' for an org-wide install; the refresh token and expiry are set when the app
    rotates its tokens."""

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


# Given the install as stored once its lock is held: a renewed install to save, or None when
# it needs nothing (another task or process renewed it meanwhile).
Renewal = Callable[[Install], Awaitable[Install | None]]
