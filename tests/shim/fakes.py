"""The loopback fakes, for bots they did not start themselves (`lambert` subprocesses, serve()).

Adds what those tests need: dispatching interactions without an in-process client, holding a
reply open (to stop a process mid-request), and noting which process posted what.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import yarl
from aiohttp import web

from bot.adapters.slack import poster as slack_post
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import FakeSlack
from tests.shim import fake_endpoints
from tests.shim.fake_endpoints import PID_HEADER
from tests.support.slack import PROXY_VARIABLES


@dataclass(frozen=True)
class Seen:
    """A channel post a fake accepted: the platform has it, whatever its sender learns."""

    platform: str
    channel: str
    message_id: str
    pid: int | None
    tag: Any  # whatever the test had set as the fake's `tag` (e.g. the simulated day)


def _pid(request: web.Request) -> int | None:
    raw = request.headers.get(PID_HEADER)
    return int(raw) if raw else None


class RemoteDiscord(FakeDiscord):
    """FakeDiscord with channel posts noted (`posts`), and replies that can be held open."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[Seen] = []
        self.tag: Any = None
        self.post_delay = 0.0  # seconds each accepted channel post waits before its answer
        self.hold_posts: asyncio.Event | None = None  # answer posts only once set
        self.hold_callbacks: asyncio.Event | None = None  # answer callbacks only once set
        self.callbacks_seen = 0

    @property
    def urls(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def interact(self, payload: dict[str, Any]) -> None:
        """Dispatch INTERACTION_CREATE to whichever client is connected to the gateway."""
        self._interactions[int(payload["id"])] = payload
        await self.dispatch("INTERACTION_CREATE", payload)

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        response = await super()._interaction_callback(request)
        self.callbacks_seen += 1
        if self.hold_callbacks is not None:
            await self.hold_callbacks.wait()
        return response

    async def _channel_message(self, request: web.Request) -> web.Response:
        response = await super()._channel_message(request)
        if response.status == 200:
            message = self.channel_messages[-1].message or {}
            channel = str(message.get("channel_id"))
            self.posts.append(Seen("discord", channel, str(message["id"]), _pid(request), self.tag))
            self._wake()
            if self.hold_posts is not None:
                await self.hold_posts.wait()
            if self.post_delay:
                await asyncio.sleep(self.post_delay)
        return response


class RemoteSlack(FakeSlack):
    """FakeSlack with posts noted (`posts`), posts that can be held, and rejected tokens."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.posts: list[Seen] = []
        self.tag: Any = None
        self.post_delay = 0.0
        self.hold_posts: asyncio.Event | None = None
        self.rejected_tokens: set[str] = set()

    @property
    def socket_count(self) -> int:
        return len(self._sockets)

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if token is not None and token in self.rejected_tokens:
            return {"ok": False, "error": "invalid_auth"}
        return super()._answer(method, args, token)

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        if request.match_info["method"] == "chat.postMessage" and response.status == 200:
            body = json.loads(response.body)  # type: ignore[arg-type]
            if body.get("ok"):
                seen = Seen("slack", body["channel"], body["ts"], _pid(request), self.tag)
                self.posts.append(seen)
                if self.hold_posts is not None:
                    await self.hold_posts.wait()
                if self.post_delay:
                    await asyncio.sleep(self.post_delay)
        return response


def aim_discord(monkeypatch: pytest.MonkeyPatch, fake: RemoteDiscord) -> None:
    """In this process, point discord.py's REST and gateway at `fake` (until the test ends)."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake_endpoints.discord_rest(fake.urls))
    gateway = yarl.URL(fake_endpoints.discord_gateway(fake.urls))
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", gateway)


def aim_slack(monkeypatch: pytest.MonkeyPatch, fake: RemoteSlack) -> None:
    """In this process, make lambert's Slack web client call `fake` (until the test ends)."""
    for name in PROXY_VARIABLES:  # slack_sdk sends even loopback calls through a proxy
        monkeypatch.delenv(name, raising=False)
    url = fake_endpoints.slack_api(fake.base_url)
    monkeypatch.setattr(slack_post, "SLACK_API", url)
    monkeypatch.setitem(slack_post.web_client.__kwdefaults__, "base_url", url)
