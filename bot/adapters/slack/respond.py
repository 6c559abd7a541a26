"""respond() for every Slack answer over one shared HTTP session, instead of one per answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient


class SessionRespond:
    """What bolt's respond() sends, the same way, through a session that stays open."""

    def __init__(self, context: AsyncBoltContext, session: aiohttp.ClientSession) -> None:
        # Made before every ack, so nothing more: the webhook client (its headers, the proxy
        # read from the environment) is built by the answer, after the ack is on its way.
        self.url = str(context.response_url)
        self.client = context.client
        self.session = session

    async def __call__(self, text: str = "", **fields: Any) -> WebhookResponse:
        # bolt leaves out unset fields and empty block lists; so does this.
        message = {"text": text, **{k: v for k, v in fields.items() if v is not None and v != []}}
        webhook = AsyncWebhookClient(
            self.url, session=self.session, proxy=self.client.proxy, ssl=self.client.ssl
        )
        response: WebhookResponse = await webhook.send_dict(message)
        return response


class SharedSession(AsyncMiddleware):
    """Hands each request a respond() over one aiohttp session. bolt's own respond() opens a
    session, so a connection (in production, a TLS handshake with Slack), for every answer:
    two thirds of a slash command's CPU time, which held HTTP mode near 450 commands a second
    (docs/performance.md). Open it in start() and close it after the last answer; while it is
    closed, requests keep bolt's respond()."""

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
        # A class, not a function middleware: bolt builds no listener arguments for it.
        if self.session is not None and req.context.response_url:
            req.context["respond"] = SessionRespond(req.context, self.session)
        return await next()
