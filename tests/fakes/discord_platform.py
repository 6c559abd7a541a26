"""A loopback fake of Discord (REST + gateway) that the real discord.Client talks to in tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import discord
from aiohttp import WSMsgType, web

from tests.fakes.faults import Hangs, LostAnswers, unreachable

API = "/api/v10"
EPHEMERAL = 64
TIMESTAMP = "2025-01-01T00:00:00+00:00"
WAIT_SECONDS = 10.0  # default patience of every wait; a healthy exchange takes milliseconds,
# but a loaded two-core machine (a subprocess starting, a full collection) can take seconds

ORDINARY_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_application_commands=True,
).value
ADMIN_ROLE_PERMISSIONS = discord.Permissions(administrator=True, manage_guild=True).value
USE_EXTERNAL_APPS = discord.Permissions(use_external_apps=True).value
# What an app added to a user's account may do where no server added it: send messages,
# embeds and files (Discord's "Moderating Apps on Discord"), nothing more.
USER_APP_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True
).value
GUILD_INSTALL, USER_INSTALL = "0", "1"  # keys of authorizing_integration_owners
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2  # an interaction's context
USER_INSTALL_FOLLOWUPS = 5  # followups an interaction of a user install may create
MAX_FOLLOWUPS = {
    "code": 40094,
    "message": "This interaction has hit the maximum number of follow up messages",
}
# What Discord puts in member.permissions for an administrator: every bit.
ADMIN_PERMISSIONS = discord.Permissions.all().value

# Canned bodies Discord returns for the usual channel-post failures.
CANNED_ERRORS: dict[int, dict[str, Any]] = {
    403: {"code": 50013, "message": "Missing Permissions"},
    404: {"code": 10003, "message": "Unknown Channel"},
    500: {"code": 0, "message": "500: Internal Server Error"},
}

# What an edge (Cloudflare) sends for a 503: HTML, not Discord's JSON error.

# Task names discord.py gives to the work it starts for an interaction.
_HANDLER_TASKS = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
)


def fast_client(**kwargs: Any) -> discord.Client:
    """A discord.Client for tests: guilds-only intents, guild_ready_timeout=0.05 (default 2 s)."""
    kwargs.setdefault("intents", discord.Intents.none() | discord.Intents(guilds=True))
    kwargs.setdefault("guild_ready_timeout", 0.05)
    return discord.Client(**kwargs)


class ClientFailure(AssertionError):
    """The discord.Client under test crashed, stopped, or logged an error."""


@dataclass(frozen=True)
class FakeUser:
    """A guild member as the fake presents it; `permissions` is what interactions carry."""

    id: int
    name: str
    roles: tuple[int, ...] = ()
    permissions: int = ORDINARY_PERMISSIONS
    bot: bool = False

    def user_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    def member_payload(self, permissions: int | None = None) -> dict[str, Any]:
        member = {
            "user": self.user_payload(),
            "roles": [str(r) for r in self.roles],
            "joined_at": TIMESTAMP,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,  # discord.Member() raises KeyError without it
        }
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member


@dataclass
class Request:
    """One REST request the client made (Authorization header removed)."""

    method: str
    path: str  # relative to /api/v10
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    files: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None


class _Body:
    """Read-only views shared by everything that carries a message body."""

    body: dict[str, Any]

    @property
    def content(self) -> str | None:
        return self.body.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.body.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.body.get("components") or []

    @property
    def flags(self) -> int:
        return int(self.body.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.body.get("allowed_mentions")


@dataclass
class Callback(_Body):
    """POST /interactions/{id}/{token}/callback: `body` is the callback's `data`."""

    interaction_id: int
    token: str
    type: int  # 4 message, 5 deferred, 6 deferred update, 7 update, 8 autocomplete, 9 modal
    body: dict[str, Any]
    message: dict[str, Any] | None  # the message it created or updated (types 4, 5, 6, 7)

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return self.body.get("choices")


@dataclass
class PostedMessage(_Body):
    """A channel post (kind "channel") or a webhook call ("followup", "edit", "delete")."""

    kind: str
    channel_id: int
    body: dict[str, Any]
    message: dict[str, Any] | None
    token: str | None = None
    target: str | None = None  # "@original" or a message id, for edit/delete


@dataclass(frozen=True)
class Place:
    """Somewhere a member uses lambert through their own account (a user install): a DM with
    the bot (context 1), a group DM (2), or a server that never added the bot (0).

    The bot cannot post there by itself: Create Message answers 403 Missing Access. Where the
    member lacks Use External Apps (`external_apps=False`), Discord makes every answer to the
    interaction ephemeral, whatever flags the app asked for; `forced_ephemeral` does that
    even where the permission is there (a setting the interaction does not show).
    """

    context: int
    channel_id: int
    guild_id: int | None = None
    external_apps: bool = True
    forced_ephemeral: bool = False
    server_install: bool = False  # the server added the app with applications.commands only

    @property
    def forces_ephemeral(self) -> bool:
        external = self.context == GUILD and not self.server_install
        return external and (self.forced_ephemeral or not self.external_apps)


RECORD = web.RequestKey("record", Request)


@dataclass
class _Failure:
    method: str
    path: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    remaining: int | None


class _ErrorCapture(logging.Handler):
    """Collects errors discord.py logs (handler exceptions, reconnects) so tests fail on them."""

    def __init__(self, fake: FakeDiscord, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(level=logging.ERROR)
        self.fake, self.loop = fake, loop
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.fake.client_errors.append(self.format(record))
        # The heartbeat thread logs too, so wake waiters through the loop.
        self.loop.call_soon_threadsafe(self.fake._wake)


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly "application/json": json_response() adds a charset and discord.py then sees text.
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers=headers,
    )


def _too_long(errors: dict, path: tuple[str, ...], value: Any, limit: int) -> int:
    """Record Discord's BASE_TYPE_MAX_LENGTH error at `path` if value is longer than limit."""
    size = len(value or "")
    if size > limit:
        node = errors
        for key in path:
            node = node.setdefault(key, {})
        message = f"Must be {limit} or fewer in length."
        node["_errors"] = [{"code": "BASE_TYPE_MAX_LENGTH", "message": message}]
    return size


def message_form_errors(body: Mapping[str, Any]) -> dict[str, Any]:
    """The Invalid Form Body errors Discord would give for this message body (empty if valid)."""
    errors: dict[str, Any] = {}
    _too_long(errors, ("content",), body.get("content"), 2000)
    embeds = body.get("embeds") or []
    _too_long(errors, ("embeds",), embeds, 10)
    total = 0
    for i, embed in enumerate(embeds):
        at = ("embeds", str(i))
        total += _too_long(errors, (*at, "title"), embed.get("title"), 256)
        total += _too_long(errors, (*at, "description"), embed.get("description"), 4096)
        total += _too_long(
            errors, (*at, "footer", "text"), embed.get("footer", {}).get("text"), 2048
        )
        total += _too_long(
            errors, (*at, "author", "name"), embed.get("author", {}).get("name"), 256
        )
        fields = embed.get("fields") or []
        _too_long(errors, (*at, "fields"), fields, 25)
        for j, f in enumerate(fields):
            total += _too_long(errors, (*at, "fields", str(j), "name"), f.get("name"), 256)
            total += _too_long(errors, (*at, "fields", str(j), "value"), f.get("value"), 1024)
    if total > 6000:
        errors.setdefault("embeds", {})["_errors"] = [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": "Embed size exceeds maximum size of 6000"}
        ]
    rows = body.get("components") or []
    _too_long(errors, ("components",), rows, 5)
    for i, row in enumerate(rows):
        for j, item in enumerate(row.get("components") or []):
            at = ("components", str(i), "components", str(j))
            _too_long(errors, (*at, "label"), item.get("label"), 80)
            _too_long(errors, (*at, "custom_id"), item.get("custom_id"), 100)
    for i, choice in enumerate(body.get("choices") or []):
        _too_long(errors, ("choices", str(i), "name"), choice.get("name"), 100)
        if isinstance(choice.get("value"), str):  # a string choice's value: 100 at most too
            _too_long(errors, ("choices", str(i), "value"), choice["value"], 100)
    _too_long(errors, ("choices",), body.get("choices"), 25)
    return errors


def _is_empty(body: Mapping[str, Any], files: list) -> bool:
    keys = ("content", "embeds", "components", "attachments", "poll", "sticker_ids")
    return not files and not any(body.get(k) for k in keys)


def _option_list(options: Mapping[str, Any] | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """{"text": "rlhf", "count": 3} -> Discord option dicts (str 3, int 4, bool 5, float 10)."""
    if options is None:
        return []
    if isinstance(options, list):
        return [dict(o) for o in options]
    result = []
    for name, value in options.items():
        if isinstance(value, dict):
            result.append({"name": name, **value})
            continue
        kind = {bool: 5, int: 4, float: 10, str: 3}.get(type(value))
        if kind is None:
            raise TypeError(f"option {name}={value!r}: pass a raw option dict for this type")
        result.append({"name": name, "type": kind, "value": value})
    return result


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1 for one test; inspect what the bot did."""

    def __init__(self) -> None:
        self._ids = itertools.count(1_300_000_000_000_000_000)  # snowflakes for new objects
        self.app_id = 1_100_000_000_000_000_001
        self.guild_id = 1_200_000_000_000_000_001
        self.admin_role_id = 1_200_000_000_000_000_002
        self.channels = {"general": 1_200_000_000_000_000_010, "quotes": 1_200_000_000_000_000_011}
        self.channel_id = self.channels["general"]
        self.bot = FakeUser(self.app_id, "lambert", permissions=ADMIN_PERMISSIONS, bot=True)
        self.owner = FakeUser(1_100_000_000_000_000_009, "owner", permissions=ADMIN_PERMISSIONS)
        self.member = FakeUser(1_100_000_000_000_000_002, "reader")
        self.admin = FakeUser(
            1_100_000_000_000_000_003,
            "moderator",
            roles=(self.admin_role_id,),
            permissions=ADMIN_PERMISSIONS,
        )
        self.app_permissions = ORDINARY_PERMISSIONS
        self.places: dict[int, Place] = {}  # channel id -> a user install's place
        # Sharding: what GET /gateway/bot recommends, and more guilds beside the test guild
        # (guild id -> its one channel). Each guild's events go only to the socket of its
        # shard, (guild_id >> 22) % count, as Discord sends them.
        self.recommended_shards = 1
        # session_start_limit.max_concurrency: how many shards may IDENTIFY per 5 s (1 for
        # most bots; Discord raises it for big ones).
        self.max_concurrency = 1
        # session_start_limit's budget: IDENTIFYs left, and milliseconds until it resets.
        self.session_starts_remaining = 1000
        self.session_reset_after = 0
        self.gateway_refusals = 0  # websocket handshakes refused (refuse_gateway)
        self.more_guilds: dict[int, int] = {}
        # While set and not yet released, a new gateway socket gets no HELLO (a shard stuck
        # reconnecting).
        self.hold_hello: asyncio.Event | None = None
        # Set to edit the READY payload before it is sent (e.g. to break it on purpose).
        self.ready_transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None

        self.requests: list[Request] = []
        self.callbacks: list[Callback] = []
        self.channel_messages: list[PostedMessage] = []
        self.webhook_messages: list[PostedMessage] = []
        self.synced_commands: dict[int | None, list[dict[str, Any]]] = {}
        self.gateway_frames: list[dict[str, Any]] = []  # what the client sent on the gateway
        self.unhandled: list[str] = []  # REST routes the fake does not serve
        self.client_errors: list[str] = []

        self._failures: list[_Failure] = []
        self._nonces: dict[tuple[int, str], dict[str, Any]] = {}  # enforce_nonce dedupe
        self._lost_answers: LostAnswers[int] = LostAnswers()  # by channel, after storing
        self.late_release = self._lost_answers.late_release
        self.hangs = Hangs()  # requests that get no answer until hangs.release()
        self.deduped = 0  # posts answered with an earlier message of the same nonce
        self._interactions: dict[int, dict[str, Any]] = {}
        self._acknowledged: set[int] = set()
        self._originals: dict[str, dict[str, Any]] = {}
        self._messages: dict[int, dict[str, Any]] = {}
        self._command_ids: dict[tuple[int | None, str], int] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._shard_sockets: dict[int, web.WebSocketResponse] = {}  # shard id -> its session
        self._session_shards: dict[str, int] = {}  # session id -> shard, for RESUME
        self.shard_count = 1  # the count the connected shards identified with
        self._seq: dict[int, int] = {}
        self._identified = False
        self._waiters: list[asyncio.Future[None]] = []
        self._cursors = {"callbacks": 0, "channel": 0, "webhook": 0}
        self._client: discord.Client | None = None
        self._client_task: asyncio.Task[None] | None = None
        self._allow_errors = False
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        route = app.router.add_route
        route("GET", "/gateway", self._gateway)
        route("GET", API + "/gateway", self._gateway_info)
        route("GET", API + "/gateway/bot", self._gateway_info)
        route("GET", API + "/users/@me", self._user_me)
        route("GET", API + "/oauth2/applications/@me", self._application)
        route("POST", API + "/interactions/{iid}/{token}/callback", self._interaction_callback)
        route("POST", API + "/webhooks/{app_id}/{token}", self._followup)
        route("*", API + "/webhooks/{app_id}/{token}/messages/{target}", self._webhook_message)
        route("POST", API + "/channels/{channel_id}/messages", self._channel_message)
        route("*", API + "/applications/{app_id}/commands", self._commands)
        route("*", API + "/applications/{app_id}/guilds/{guild_id}/commands", self._commands)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        # So `unreachable()` can listen on the port again while closed connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        self.late_release.set()  # a handler still holding back an answer lets go
        self.hangs.release()
        if self.hold_hello is not None:
            self.hold_hello.set()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @contextlib.asynccontextmanager
    async def run_client(
        self,
        client: discord.Client,
        token: str = "fake-token",
        *,
        ready_seconds: float = WAIT_SECONDS,
        allow_errors: bool = False,
    ) -> AsyncIterator[FakeDiscord]:
        """Start the real client against the fake, wait for on_ready, and close it afterwards.

        Build the client with guild_ready_timeout=0.05, or on_ready waits 2 s for more guilds.
        Raises ClientFailure if client.start() crashes, and (unless allow_errors) if discord.py
        logged an error, e.g. an exception in a command, view or event handler.
        """
        loop = asyncio.get_running_loop()
        capture = _ErrorCapture(self, loop)
        logging.getLogger("discord").addHandler(capture)
        self._client, self._allow_errors = client, allow_errors
        self._closing = self._identified = False
        task = asyncio.create_task(client.start(token), name="fake-discord-client")
        self._client_task = task
        task.add_done_callback(lambda _: self._wake())
        try:
            await self.wait_until(lambda: self._identified, seconds=ready_seconds, what="IDENTIFY")
            ready = asyncio.ensure_future(client.wait_until_ready())
            ready.add_done_callback(lambda _: self._wake())
            try:
                what = "on_ready (did you pass guild_ready_timeout=0.05?)"
                await self.wait_until(ready.done, seconds=ready_seconds, what=what)
            finally:
                ready.cancel()
            yield self
        finally:
            self._closing = True
            await client.close()
            done, _ = await asyncio.wait({task}, timeout=2.0)
            if not done:
                task.cancel()
                await asyncio.wait({task})
            logging.getLogger("discord").removeHandler(capture)
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        task = self._client_task
        if task is not None and task.done():
            exc = None if task.cancelled() else task.exception()
            if exc is not None:
                raise ClientFailure(f"discord client crashed: {exc!r}") from exc
            if not self._closing:
                raise ClientFailure("discord client stopped before the test ended")
        if not self._allow_errors and (self.client_errors or self.unhandled):
            lines = [*self.client_errors, *(f"fake has no route {r}" for r in self.unhandled)]
            raise ClientFailure("discord client reported errors:\n" + "\n".join(lines))

    # ---- waiting ---------------------------------------------------------------------------

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(
        self, predicate: Callable[[], Any], *, seconds: float = WAIT_SECONDS, what: str = ""
    ) -> Any:
        """Wait (no polling) until predicate() is truthy; fail fast if the client fails."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(seconds):
                while True:
                    self._raise_if_failed()
                    result = predicate()
                    if result:
                        return result
                    waiter = loop.create_future()
                    self._waiters.append(waiter)
                    await waiter
        except TimeoutError:
            seen = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.requests[-10:])
            message = f"waited {seconds}s for {what}; last requests:\n{seen}"
            raise AssertionError(message) from None

    async def _next(self, feed: list[Any], cursor: str, seconds: float, what: str) -> Any:
        def take() -> Any:
            index = self._cursors[cursor]
            if index < len(feed):
                self._cursors[cursor] = index + 1
                return feed[index]
            return None

        return await self.wait_until(take, seconds=seconds, what=what)

    async def next_callback(self, seconds: float = WAIT_SECONDS) -> Callback:
        """The oldest interaction callback not yet returned by this method (waits for one)."""
        return await self._next(self.callbacks, "callbacks", seconds, "an interaction callback")

    async def next_channel_message(self, seconds: float = WAIT_SECONDS) -> PostedMessage:
        """The oldest POST /channels/{id}/messages not yet returned by this method."""
        return await self._next(self.channel_messages, "channel", seconds, "a channel message")

    async def next_webhook_message(self, seconds: float = WAIT_SECONDS) -> PostedMessage:
        """The oldest followup/edit/delete on an interaction webhook not yet returned."""
        return await self._next(self.webhook_messages, "webhook", seconds, "a webhook message")

    async def settle(self, seconds: float = WAIT_SECONDS) -> None:
        """Wait until discord.py has finished every command, view and modal handler it started."""
        current = asyncio.current_task()

        def busy() -> set[asyncio.Task[Any]]:
            return {
                t
                for t in asyncio.all_tasks()
                if t is not current and not t.done() and t.get_name().startswith(_HANDLER_TASKS)
            }

        try:
            async with asyncio.timeout(seconds):
                while tasks := busy():
                    await asyncio.wait(tasks)
        except TimeoutError:
            names = sorted(t.get_name() for t in busy())
            raise AssertionError(f"bot handlers still running after {seconds}s: {names}") from None

    # ---- failures --------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer `method path` (relative to /api/v10) with this error, `times` times or always."""
        self._failures.append(_Failure(method, path, status, body, dict(headers or {}), times))

    def fail_channel(
        self,
        channel_id: int,
        status: int,
        *,
        retry_after: float = 60.0,
        via: bool = True,
        times: int | None = None,
    ) -> None:
        """Make posts to a channel fail like Discord: 403 Missing Permissions, 404, 429, 500.

        A 429 with `via` (Discord's "Via" header) is a real rate limit: discord.py sleeps
        retry_after then retries, or raises discord.RateLimited when retry_after is above the
        client's max_ratelimit_timeout (at least 30 s). Without `via` discord.py raises
        HTTPException(429) at once (it assumes a Cloudflare ban). discord.py retries 5xx after
        sleeping 1, 3, 5... s, so use status 500 only with times=1 and patience.
        """
        headers: dict[str, str] = {}
        body = CANNED_ERRORS.get(status, {"code": 0, "message": f"{status}"})
        if status == 429:
            body = {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": False,
            }
            headers = {"Retry-After": str(retry_after), "X-RateLimit-Scope": "user"}
            if via:
                headers["Via"] = "1.1 google"
        self.fail(
            "POST", f"/channels/{channel_id}/messages", status, body, headers=headers, times=times
        )

    def lose_answers(self, channel_id: int, fault: str, *, times: int = 1) -> None:
        """The next `times` posts to the channel (as the bot, or an interaction's followup)
        are stored (or deduped), then the answer is lost (faults.LOST_ANSWERS)."""
        self._lost_answers.lose(channel_id, fault, times)

    @contextlib.asynccontextmanager
    async def unreachable(self) -> AsyncIterator[None]:
        """Nothing listens on the port meanwhile (faults.unreachable)."""
        assert self._runner is not None
        (site,) = self._runner.sites
        async with unreachable(self._runner, site, self.port):
            yield

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.path == path and failure.remaining != 0:
                if failure.remaining is not None:
                    failure.remaining -= 1
                return failure
        return None

    # ---- connection faults (start-up and reconnects) -----------------------------------------

    def refuse_gateway(self, status: int | None = 503) -> None:
        """Answer the gateway's websocket handshake with HTTP `status`, as Discord's edge does in
        an outage, until called with None. Login (REST) still works: use fail("GET",
        "/users/@me", 401, ...) for a rejected token."""
        self._refused_gateway = status

    async def drop_gateway(self, code: int = 1000) -> None:
        """Close every open gateway websocket with `code`. discord.py resumes after most codes,
        but not after 1000 (a clean close) or 4004 (authentication failed)."""
        for ws in list(self._sockets):
            await ws.close(code=code)

    async def drop_shard(self, shard: int, code: int = 4000) -> None:
        """Close one shard's gateway websocket with `code` (4000: discord.py resumes)."""
        await self._shard_sockets[shard].close(code=code)

    def shard_of(self, guild_id: int | None) -> int:
        """The shard whose socket gets this guild's events (DMs: shard 0)."""
        return 0 if guild_id is None else (guild_id >> 22) % self.shard_count

    def add_guild(self, shard: int, count: int) -> tuple[int, int]:
        """Another guild the bot is in, on `shard` of `count`, with one channel: (guild id,
        channel id)."""
        guild_id = next(self._ids)
        while (guild_id >> 22) % count != shard:
            guild_id += 1 << 22
        channel_id = next(self._ids)
        self.more_guilds[guild_id] = channel_id
        return guild_id, channel_id

    def guild_of(self, channel_id: int) -> int:
        return next((g for g, c in self.more_guilds.items() if c == channel_id), self.guild_id)

    def _gateway_refusal(self) -> web.Response | None:
        status: int | None = getattr(self, "_refused_gateway", None)
        if status is None:
            return None
        self.gateway_refusals += 1
        return web.Response(status=status, text=f"{status}: gateway unavailable")

    # ---- REST ------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API):
            return await handler(request)
        record = await self._record(request)
        request[RECORD] = record
        await self.hangs.hold(request)
        failure = self._take_failure(record.method, record.path)
        if failure is not None:
            response: web.StreamResponse = _json(failure.status, failure.body, failure.headers)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # the router found no route or method
                self.unhandled.append(f"{record.method} {record.path} ({exc.status})")
                response = _json(404, {"code": 0, "message": "404: Not Found"})
        record.status = response.status
        self._wake()
        return response

    async def _record(self, request: web.Request) -> Request:
        body: Any = None
        files: list[dict[str, Any]] = []
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for name, value in form.items():
                if name == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    data = value.file.read()
                    files.append(
                        {"field": name, "filename": value.filename, "size": len(data), "data": data}
                    )
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        record = Request(
            request.method, request.path[len(API) :], dict(request.query), body, headers, files
        )
        self.requests.append(record)
        return record

    async def _user_me(self, _request: web.Request) -> web.Response:
        return _json(200, self.bot.user_payload())

    async def _gateway_info(self, _request: web.Request) -> web.Response:
        limit = {
            "total": 1000,
            "remaining": self.session_starts_remaining,
            "reset_after": self.session_reset_after,
            "max_concurrency": self.max_concurrency,
        }
        return _json(
            200,
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": limit,
            },
        )

    async def _application(self, _request: web.Request) -> web.Response:
        return _json(
            200,
            {
                "id": str(self.app_id),
                "name": "lambert",
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.owner.user_payload(),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
            },
        )

    def new_message(
        self, channel_id: int, body: Mapping[str, Any], *, author: FakeUser | None = None
    ) -> dict[str, Any]:
        """A message object as Discord returns it for a send; the fake remembers it by id."""
        message = {
            "id": str(next(self._ids)),
            "channel_id": str(channel_id),
            "type": 0,
            "author": (author or self.bot).user_payload(),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": self._attachments(body),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(body.get("tts")),
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "flags": int(body.get("flags") or 0),
        }
        self._messages[int(message["id"])] = message
        return message

    def _attachments(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The message's attachments as Discord returns them: each file the body names (an
        upload's `files[n]` part is recorded with the request), at a made-up CDN address."""
        return [
            {
                "id": str(next(self._ids)),
                "filename": a["filename"],
                "size": 0,
                "url": f"https://cdn.invalid/attachments/{a['filename']}",
                "proxy_url": f"https://media.invalid/attachments/{a['filename']}",
            }
            for a in body.get("attachments") or []
        ]

    def _edit(self, message: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        if "attachments" in body:
            message["attachments"] = self._attachments(body)
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        message["edited_timestamp"] = TIMESTAMP
        return message

    def _invalid(
        self, body: Mapping[str, Any], files: list, *, may_be_empty: bool = False
    ) -> web.Response | None:
        errors = message_form_errors(body)
        if errors:
            return _json(400, {"code": 50035, "errors": errors, "message": "Invalid Form Body"})
        if not may_be_empty and _is_empty(body, files):
            return _json(400, {"code": 50006, "message": "Cannot send an empty message"})
        return None

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        iid, token = int(request.match_info["iid"]), request.match_info["token"]
        interaction = self._interactions.get(iid)
        if interaction is None or interaction["token"] != token:
            return _json(404, {"code": 10062, "message": "Unknown interaction"})
        if iid in self._acknowledged:
            return _json(
                400, {"code": 40060, "message": "Interaction has already been acknowledged."}
            )
        kind, data = record.json["type"], record.json.get("data") or {}
        invalid = self._invalid(data, record.files, may_be_empty=kind != 4)
        if invalid is not None:
            return invalid
        self._acknowledged.add(iid)
        message = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | self._forced_flags(interaction)
            shown = {**data, "flags": flags} if kind == 4 else {"flags": flags}
            message = self.new_message(int(interaction["channel_id"]), shown)
            self._originals[token] = message
        elif kind in (6, 7) and "message" in interaction:
            message = self._messages.setdefault(
                int(interaction["message"]["id"]), interaction["message"]
            )
            if kind == 7:
                self._edit(message, data)
            self._originals[token] = message
        self.callbacks.append(Callback(iid, token, kind, data, message))
        reply: dict[str, Any] = {
            "interaction": {
                "id": str(iid),
                "type": interaction["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(
                    (int(data.get("flags") or 0) | self._forced_flags(interaction)) & EPHEMERAL
                ),
            }
        }
        if message is not None:
            reply["interaction"]["response_message_id"] = message["id"]
            reply["resource"] = {"type": kind, "message": message}
        return _json(200, reply)

    def _forced_flags(self, interaction: Mapping[str, Any]) -> int:
        """EPHEMERAL where Discord lets the app answer only the member (see Place)."""
        place = self.places.get(int(interaction["channel_id"]))
        return EPHEMERAL if place is not None and place.forces_ephemeral else 0

    def _interaction_for_token(self, token: str) -> dict[str, Any] | None:
        return next((i for i in self._interactions.values() if i["token"] == token), None)

    async def _followup(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        token = request.match_info["token"]
        interaction = self._interaction_for_token(token)
        if interaction is None:
            return _json(404, {"code": 10015, "message": "Unknown Webhook"})
        invalid = self._invalid(record.json or {}, record.files)
        if invalid is not None:
            return invalid
        channel_id = int(interaction["channel_id"])
        owners = interaction.get("authorizing_integration_owners") or {}
        sent = sum(1 for m in self.webhook_messages if m.kind == "followup" and m.token == token)
        if GUILD_INSTALL not in owners and sent >= USER_INSTALL_FOLLOWUPS:
            return _json(400, MAX_FOLLOWUPS)
        body = record.json or {}
        flags = int(body.get("flags") or 0) | self._forced_flags(interaction)
        message = self.new_message(channel_id, {**body, "flags": flags})
        self.webhook_messages.append(
            PostedMessage("followup", channel_id, record.json or {}, message, token)
        )
        return await self._answer(request, channel_id, _json(200, message))

    async def _webhook_message(self, request: web.Request) -> web.StreamResponse:
        record = request[RECORD]
        token, target = request.match_info["token"], request.match_info["target"]
        interaction = self._interaction_for_token(token)
        if interaction is None:
            return _json(404, {"code": 10015, "message": "Unknown Webhook"})
        message = (
            self._originals.get(token) if target == "@original" else self._messages.get(int(target))
        )
        if message is None:
            return _json(404, {"code": 10008, "message": "Unknown Message"})
        channel_id = int(interaction["channel_id"])
        if request.method == "GET":
            return _json(200, message)
        if request.method == "PATCH":
            invalid = self._invalid(record.json or {}, record.files, may_be_empty=True)
            if invalid is not None:
                return invalid
            self._edit(message, record.json or {})
            self.webhook_messages.append(
                PostedMessage("edit", channel_id, record.json or {}, message, token, target)
            )
            return _json(200, message)
        if request.method == "DELETE":
            self._messages.pop(int(message["id"]), None)
            self.webhook_messages.append(
                PostedMessage("delete", channel_id, {}, message, token, target)
            )
            # No body and so no application/json: discord.py would try to parse "".
            return web.Response(status=204)
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "PATCH", "DELETE"])

    async def _channel_message(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        channel_id = int(request.match_info["channel_id"])
        if channel_id in self.places:  # a user install's DM, group DM or foreign server
            return _json(403, {"code": 50001, "message": "Missing Access"})
        if channel_id not in (*self.channels.values(), *self.more_guilds.values()):
            return _json(404, CANNED_ERRORS[404])
        body = record.json or {}
        invalid = self._invalid(body, record.files)
        if invalid is not None:
            return invalid
        # Create Message: with enforce_nonce, a nonce the author used in the past few minutes
        # returns that message and creates nothing (the fake remembers for the whole test).
        nonce = body.get("nonce")
        key = (channel_id, str(nonce))
        if nonce is not None and body.get("enforce_nonce") and key in self._nonces:
            message = self._nonces[key]
            self.deduped += 1
        else:
            message = self.new_message(channel_id, body)
            if nonce is not None:
                message["nonce"] = nonce
                if body.get("enforce_nonce"):
                    self._nonces[key] = message
            self.channel_messages.append(PostedMessage("channel", channel_id, body, message))
        return await self._answer(request, channel_id, _json(200, message))

    async def _answer(
        self, request: web.Request, channel_id: int, answer: web.Response
    ) -> web.StreamResponse:
        fault = self._lost_answers.next(channel_id)
        return await self._lost_answers.deliver(request, fault, answer)

    async def _commands(self, request: web.Request) -> web.Response:
        record = request[RECORD]
        guild = request.match_info.get("guild_id")
        guild_id = int(guild) if guild is not None else None
        if request.method == "GET":
            return _json(200, self.synced_commands.get(guild_id, []))
        if request.method != "PUT":
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "PUT"])
        synced = []
        for command in record.json:
            key = (guild_id, command["name"])
            cid = self._command_ids.setdefault(key, next(self._ids))
            defaults = {
                "type": 1,
                "description": "",  # what Discord answers for a context-menu command
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
            }
            extra = {"guild_id": str(guild_id)} if guild_id is not None else {}
            synced.append(
                {
                    **defaults,
                    **command,
                    **extra,
                    "id": str(cid),
                    "application_id": str(self.app_id),
                    "version": str(next(self._ids)),
                }
            )
        self.synced_commands[guild_id] = synced
        return _json(200, synced)

    # ---- gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if (refused := self._gateway_refusal()) is not None:
            return refused
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        self._seq[id(ws)] = 0
        try:
            if self.hold_hello is not None:
                await self.hold_hello.wait()
            await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(ws, json.loads(msg.data))
        finally:
            self._sockets.remove(ws)
            for shard, held in list(self._shard_sockets.items()):
                if held is ws:
                    del self._shard_sockets[shard]
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        self.gateway_frames.append(frame)
        op, data = frame.get("op"), frame.get("d")
        if op == 1:  # heartbeat
            await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:  # identify
            shard, count = data.get("shard") or (0, 1)
            self.shard_count = count
            self._shard_sockets[shard] = ws
            ready = self.ready_payload(shard=data.get("shard"))
            self._session_shards[ready["session_id"]] = shard
            if self.ready_transform is not None:
                ready = self.ready_transform(ready)
            await self._send_dispatch(ws, "READY", ready)
            for guild_id in self._guilds_on(shard):
                await self._send_dispatch(ws, "GUILD_CREATE", self.guild_payload(guild_id))
            self._identified = True
            self._wake()
        elif op == 6:  # resume
            shard = self._session_shards.get(data.get("session_id"), 0)
            self._shard_sockets[shard] = ws
            await self._send_dispatch(ws, "RESUMED", {})
            self._wake()
        elif op == 8:  # request guild members (only with the members intent)
            members = [u.member_payload() for u in (self.bot, self.member, self.admin)]
            chunk = {
                "guild_id": str(self.guild_id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
            }
            await self._send_dispatch(
                ws, "GUILD_MEMBERS_CHUNK", {**chunk, "nonce": data.get("nonce")}
            )

    async def _send_dispatch(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq[id(ws)] += 1
        await ws.send_json({"op": 0, "t": event, "s": self._seq[id(ws)], "d": data})

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway DISPATCH (op 0) to the connected client: on the socket of the
        shard of the event's guild when the client shards."""
        if not self._sockets:
            raise RuntimeError("no client is connected to the fake gateway; use run_client()")
        guild = data.get("guild_id")
        shard = self.shard_of(int(guild) if guild is not None else None)
        ws = self._shard_sockets.get(shard)
        if ws is None:
            if self.shard_count > 1:
                raise RuntimeError(f"no client runs shard {shard} of {self.shard_count}")
            ws = self._sockets[-1]
        await self._send_dispatch(ws, event, data)

    def _guilds_on(self, shard: int) -> list[int]:
        guilds = [self.guild_id, *self.more_guilds]
        return [g for g in guilds if self.shard_of(g) == shard]

    def ready_payload(self, shard: list[int] | None = None) -> dict[str, Any]:
        on = shard[0] if shard else 0
        ready = {
            "v": 10,
            "user": {**self.bot.user_payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in self._guilds_on(on)],
            "session_id": f"fake-session-{on}" if shard else "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "_trace": ["fake-discord"],
        }
        if shard is not None:
            ready["shard"] = shard
        return ready

    def channel_payload(self, channel_id: int) -> dict[str, Any]:
        guild_id = self.guild_of(channel_id)
        if guild_id != self.guild_id:
            name, position = "general", 0
        else:
            name = next(n for n, cid in self.channels.items() if cid == channel_id)
            position = list(self.channels.values()).index(channel_id)
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "parent_id": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def guild_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        guild_id = guild_id or self.guild_id
        channels = (
            [self.more_guilds[guild_id]]
            if guild_id in self.more_guilds
            else list(self.channels.values())
        )
        roles = [
            {
                "id": str(guild_id),
                "name": "@everyone",
                "permissions": str(ORDINARY_PERMISSIONS),
            },
            {
                "id": str(self.admin_role_id),
                "name": "Admin",
                "permissions": str(ADMIN_ROLE_PERMISSIONS),
            },
        ]
        for position, role in enumerate(roles):
            role.update(
                position=position, color=0, hoist=False, managed=False, mentionable=False, flags=0
            )
        return {
            "id": str(guild_id),
            "name": "Fake Guild",
            "unavailable": False,
            "owner_id": str(self.owner.id),
            "member_count": 3,
            "large": False,
            "joined_at": TIMESTAMP,
            "preferred_locale": "en-US",
            "features": [],
            "roles": roles,
            "channels": [self.channel_payload(c) for c in channels],
            "members": [u.member_payload() for u in (self.bot, self.member, self.admin)],
            "threads": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # ---- interactions ----------------------------------------------------------------------

    def user_install_place(
        self,
        context: int,
        *,
        external_apps: bool = True,
        forced_ephemeral: bool = False,
        server_install: bool = False,
    ) -> Place:
        """A new channel where interactions come from a member's own install of lambert: a DM
        with the bot, a group DM, or (context 0) a channel of a server the bot is not in; with
        `server_install`, a server that added the commands but not the bot user."""
        guild_id = next(self._ids) if context == GUILD else None
        place = Place(
            context, next(self._ids), guild_id, external_apps, forced_ephemeral, server_install
        )
        self.places[place.channel_id] = place
        return place

    def _place_payload(self, place: Place, user: FakeUser) -> dict[str, Any]:
        """What an interaction from `place` carries instead of the test guild's fields."""
        owners = {USER_INSTALL: str(user.id)}
        if place.server_install:
            owners = {GUILD_INSTALL: str(place.guild_id)}
        payload: dict[str, Any] = {
            "authorizing_integration_owners": owners,
            "context": place.context,
            "app_permissions": str(USER_APP_PERMISSIONS),
        }
        channel: dict[str, Any] = {"id": str(place.channel_id), "flags": 0}
        if place.context == GUILD:
            permissions = ORDINARY_PERMISSIONS | (USE_EXTERNAL_APPS if place.external_apps else 0)
            payload["guild_id"] = str(place.guild_id)
            payload["guild"] = {"id": str(place.guild_id), "locale": "en-US", "features": []}
            payload["member"] = user.member_payload(permissions)
            channel.update(
                type=0,
                guild_id=str(place.guild_id),
                name="elsewhere",
                position=0,
                permission_overwrites=[],
                nsfw=False,
                parent_id=None,
                rate_limit_per_user=0,
            )
        else:  # a DM or group DM: the user, no member, no guild
            payload["user"] = user.user_payload()
            friend = FakeUser(1_100_000_000_000_000_077, "friend")
            channel["type"] = 1 if place.context == BOT_DM else 3
            channel["recipients"] = [u.user_payload() for u in (user, friend)][: channel["type"]]
            if place.context == PRIVATE_CHANNEL:
                channel.update(name=None, icon=None, owner_id=str(user.id))
        payload["channel"] = channel
        return payload

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: FakeUser | None,
        member_permissions: int | None,
        channel_id: int | None,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        user = user or self.member
        channel_id = channel_id or self.channel_id
        guild_id = self.guild_of(channel_id)
        iid = next(self._ids)
        payload = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": kind,
            "data": data,
            "token": f"token-{iid}",
            "version": 1,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": {} if channel_id in self.places else self.channel_payload(channel_id),
            "member": user.member_payload(
                user.permissions if member_permissions is None else member_permissions
            ),
            "app_permissions": str(self.app_permissions),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,  # Interaction() raises KeyError without it
        }
        place = self.places.get(channel_id)
        if place is not None:
            for key in ("guild_id", "guild", "member", "guild_locale"):
                payload.pop(key)
            payload.update(self._place_payload(place, user))
        if message is not None:
            payload["message"] = message
        return payload

    def _command_data(
        self, name: str, options: Any, focused: str | None, guild_command: bool
    ) -> dict[str, Any]:
        root, *subs = name.split()
        opts = _option_list(options)
        for opt in opts:
            if opt["name"] == focused:
                opt["focused"] = True
        for depth in reversed(range(len(subs))):
            opts = [
                {"type": 1 if depth == len(subs) - 1 else 2, "name": subs[depth], "options": opts}
            ]
        scope = self.guild_id if guild_command else None
        cid = self._command_ids.setdefault((scope, root), next(self._ids))
        data = {"id": str(cid), "name": root, "type": 1, "options": opts}
        if guild_command:
            data["guild_id"] = str(self.guild_id)
        return data

    def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
        *,
        user: FakeUser | None = None,
        member_permissions: int | None = None,
        channel_id: int | None = None,
        guild_command: bool = False,
    ) -> dict[str, Any]:
        """INTERACTION_CREATE for "/name" ("lambert search" = subcommand, 3 words = group)."""
        data = self._command_data(name, options, None, guild_command)
        return self._interaction(
            2, data, user=user, member_permissions=member_permissions, channel_id=channel_id
        )

    def member_message(
        self, content: str, *, channel_id: int | None = None, author: FakeUser | None = None
    ) -> dict[str, Any]:
        """A message a member wrote in a channel (the fake remembers it), to right-click."""
        channel_id = channel_id or self.channel_id
        return self.new_message(channel_id, {"content": content}, author=author or self.member)

    def message_command(
        self,
        name: str,
        message: dict[str, Any],
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
    ) -> dict[str, Any]:
        """INTERACTION_CREATE for the message context-menu command `name` on `message`: type 2
        with data.type 3, data.target_id and the message under data.resolved.messages (its
        content is there without the message-content intent)."""
        cid = self._command_ids.setdefault((None, name), next(self._ids))
        data = {
            "id": str(cid),
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        channel_id = channel_id or int(message["channel_id"])
        return self._interaction(2, data, user=user, member_permissions=None, channel_id=channel_id)

    def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | list[dict[str, Any]],
        *,
        focused: str | None = None,
        user: FakeUser | None = None,
        channel_id: int | None = None,
        guild_command: bool = False,
    ) -> dict[str, Any]:
        """Type 4 interaction; `focused` names the option being typed (default: the last one)."""
        focused = focused or _option_list(options)[-1]["name"]
        data = self._command_data(name, options, focused, guild_command)
        return self._interaction(4, data, user=user, member_permissions=None, channel_id=channel_id)

    def component_click(
        self,
        custom_id: str,
        message: dict[str, Any] | Callback | PostedMessage,
        *,
        user: FakeUser | None = None,
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> dict[str, Any]:
        """Type 3 interaction: `user` clicks the component `custom_id` on `message`."""
        if not isinstance(message, dict):
            if message.message is None:
                raise ValueError("that record created no message")
            message = message.message
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        channel_id = int(message["channel_id"])
        return self._interaction(
            3, data, user=user, member_permissions=None, channel_id=channel_id, message=message
        )

    async def send_interaction(self, payload: dict[str, Any], *, settle_first: bool = True) -> None:
        """Dispatch INTERACTION_CREATE and return once the client has received it.

        With settle_first, wait first for the bot's earlier handlers to finish (a person cannot
        click a button before the bot has sent it and discord.py has registered its view).
        """
        if self._client is None:
            raise RuntimeError("send_interaction() needs a client started with run_client()")
        if settle_first:
            await self.settle()
        iid = int(payload["id"])
        self._interactions[iid] = payload
        seen = asyncio.ensure_future(
            self._client.wait_for("interaction", check=lambda i: i.id == iid)
        )
        seen.add_done_callback(lambda _: self._wake())
        try:
            await self.dispatch("INTERACTION_CREATE", payload)
            await self.wait_until(seen.done, what=f"the client to receive interaction {iid}")
        finally:
            seen.cancel()
