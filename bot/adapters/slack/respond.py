"""respond() for every Slack answer over one shared HTTP session, instead of one per answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient


class SharedSession(AsyncMiddleware):
    """Hands each request a respond() over one aiohttp session: bolt's opens a connection (a
    TLS handshake) per answer, two thirds of a command's CPU (docs/performance.md). While it
    is closed (before start(), after close()), requests keep bolt's respond()."""

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        # A class, not a function middleware: bolt builds no listener arguments for it. Made
        # before every ack, so nothing more: the webhook client (its headers, the proxy read
        # from the environment) is built by the answer, after the ack is on its way.
        if self.session is not None and req.context.response_url:
            url = str(req.context.response_url)
            req.context["respond"] = partial(_respond, self.session, url, req.context.client)
        return await next()


async def _respond(
    session: aiohttp.ClientSession, url: str, client: AsyncWebClient, text: str = "", **fields: Any
) -> WebhookResponse:
    """What bolt's respond() sends (leaving out unset fields and empty block lists)."""
    message = {"text": text, **{k: v for k, v in fields.items() if v is not None and v != []}}
    webhook = AsyncWebhookClient(url, session=session, proxy=client.proxy, ssl=client.ssl)
    response: WebhookResponse = await webhook.send_dict(message)
    return response
