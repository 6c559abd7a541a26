"""What the listeners share: work after the ack, in a task close() waits for (bolt's lazy
listeners are not tracked); the user of a request (one users.info, asked only if needed);
respond() for every answer over one shared HTTP session, instead of one per answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import aiohttp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack.blocks import error_message
from bot.logs import one_line
from bot.runtime import Core
from bot.serving.inflight import InFlight

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]
L = TypeVar("L", bound="Listener")
Work = Callable[[L, dict[str, Any], Respond, AsyncWebClient], Awaitable[None]]


class Listener:
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
                error = exc.response.get("error")
                log.warning("slack: users.info for %s failed (%s)", self.id, error)
                found = {}
            self._info = dict(found) if isinstance(found, dict) else {}
        return self._info

    async def is_admin(self) -> bool:
        """Listed in LAMBERT_SLACK_ADMINS, or a workspace admin or owner per users.info."""
        if self.id in self.admins:
            return True
        found = await self.info()
        return bool(found.get("is_admin") or found.get("is_owner"))


class SharedSession(AsyncMiddleware):
    """respond() over one aiohttp session: bolt's opens a connection (a TLS handshake) per answer,
    two thirds of a command's CPU (docs/performance.md). Closed, requests keep bolt's."""

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def async_process(self, *, req: AsyncBoltRequest, **call: Any) -> BoltResponse | None:
        # A class: bolt builds no listener arguments for it. Before every ack, so nothing
        # more: the webhook client (headers, proxy) is built by the answer, after the ack.
        if self.session is not None and req.context.response_url:
            url = str(req.context.response_url)
            req.context["respond"] = partial(_respond, self.session, url, req.context.client)
        response: BoltResponse = await call["next"]()
        return response


async def _respond(
    session: aiohttp.ClientSession, url: str, client: AsyncWebClient, text: str = "", **fields: Any
) -> WebhookResponse:
    """What bolt's respond() sends (leaving out unset fields and empty block lists)."""
    message = {"text": text, **{k: v for k, v in fields.items() if v is not None and v != []}}
    webhook = AsyncWebhookClient(url, session=session, proxy=client.proxy, ssl=client.ssl)
    response: WebhookResponse = await webhook.send_dict(message)
    return response
