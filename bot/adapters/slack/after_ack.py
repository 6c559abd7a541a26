"""What the listeners share: work after the ack, in a task close() waits for (bolt's lazy
listeners are not tracked), and the user of a request (one users.info, asked only if needed)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import error_message
from bot.runtime import Core
from bot.serving.inflight import InFlight
from bot.serving.oneline import one_line

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]
L = TypeVar("L", bound="Listener")
Work = Callable[[L, dict[str, Any], Respond, AsyncWebClient], Awaitable[None]]


class Listener:
    """What the listener classes that SlackHandlers joins (listeners.py) share."""

    core: Core
    admins: frozenset[str]
    in_flight: InFlight

    def after_ack(self, what: str, work: Awaitable[Any], respond: Respond | None = None) -> None:
        """Run `work` in a task of `in_flight`, saying `what` failed if it does."""
        self.in_flight.start(_reporting(what, work, respond), name=f"slack {what}")


def acked(
    what: str, *, report: bool = True
) -> Callable[[Work[L]], Callable[[L, AsyncArgs], Awaitable[None]]]:
    """A listener that acks, then runs the method (body, respond or None, client) after_ack;
    with `report`, a failure is told to the user at the response_url."""

    def listener(work: Work[L]) -> Callable[[L, AsyncArgs], Awaitable[None]]:
        # bolt hands a listener taking `args` every argument it has.
        async def run(self: L, args: AsyncArgs) -> None:
            await args.ack()  # events too: Slack resends one not acked within 3 s
            # bolt's respond() raises without a response_url: None for events, the Home tab.
            respond: Any = args.respond if args.context.response_url else None
            work_done = work(self, args.body, respond, args.client)
            self.after_ack(what, work_done, respond if report else None)

        return run

    return listener


async def _reporting(what: str, work: Awaitable[Any], respond: Respond | None) -> None:
    try:
        await work
    except SlackApiError as exc:  # Slack refused or failed: its answer says all
        log.warning("slack: %s failed (%s)", what, one_line(exc))
    except Exception:
        log.exception("slack: %s failed", what)  # the formatter redacts tokens
    else:
        return
    if respond is not None:
        try:
            await respond(response_type="ephemeral", replace_original=False, **error_message())
        except Exception:
            log.exception("slack: could not report the failure of %s", what)


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
