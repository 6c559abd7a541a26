"""Who a Slack user is: one users.info per request, asked only when something needs it."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SlackUser:
    """A user of one request."""

    def __init__(self, client: AsyncWebClient, user_id: str, admins: frozenset[str]) -> None:
        self.client = client
        self.id = user_id
        self.admins = admins
        self._info: dict[str, Any] | None = None

    async def info(self) -> dict[str, Any]:
        """The users.info `user` object; empty when Slack refuses (logged)."""
        if self._info is None:
            try:
                found = (await self.client.users_info(user=self.id))["user"]
            except SlackApiError as exc:
                log.warning(
                    "slack: users.info for %s failed (%s)", self.id, exc.response.get("error")
                )
                found = {}
            self._info = dict(found) if isinstance(found, dict) else {}
        return self._info

    async def is_admin(self) -> bool:
        """Listed in LAMBERT_SLACK_ADMINS, or a workspace admin or owner per users.info."""
        if self.id in self.admins:
            return True
        found = await self.info()
        return bool(found.get("is_admin") or found.get("is_owner"))
