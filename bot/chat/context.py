"""Who asked, where, and (only when a verb needs it) whether they are an admin there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

AdminCheck = Callable[[], Awaitable[bool]]
"""Asks the platform whether the user is an admin here: awaited only for admin-only verbs,
so a plain `/lambert dpo` never pays for a lookup (Slack's is a users.info call)."""


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The request's platform, channel and user; `admin` is a known answer or a lazy check.
    `space`: the channel's workspace or server ('' for a direct message), for `stats all`."""

    platform: str = "console"
    channel: str = "console"
    space: str = "console"
    user: str = "console"
    user_name: str = ""
    admin: bool | AdminCheck = False

    async def is_admin(self) -> bool:
        return self.admin if isinstance(self.admin, bool) else await self.admin()
