"""A loopback fake of Slack (Web API, response_url sink, Socket Mode) for the real slack-bolt."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.faults import Hangs, LostAnswers, unreachable

T = TypeVar("T")

BOT_TOKEN = "xoxb-0000-lambert-test"
APP_TOKEN = "xapp-1-A0LAMBERT-0000-test"
SIGNING_SECRET = "lambert-test-signing-secret"
TEAM_ID = "T0LAMBERT"
BOT_USER_ID = "U0LAMBERT"
BOT_ID = "B0LAMBERT"
APP_ID = "A0LAMBERT"
MEMBER_ID, ADMIN_ID, OWNER_ID = "U0MEMBER", "U0ADMIN", "U0OWNER"
CHANNEL_ID = "C0GENERAL"
# OAuth (many workspaces): the app's credentials, and a second workspace beside TEAM_ID.
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "lambert-test-client-secret"
SECOND_TEAM_ID = "T0SECOND"
# Enterprise Grid: an organisation and two of its workspaces. An install "for the
# organisation" (org-wide) has the org's id and no team; one "for a workspace" of it has both.
ORG_ID = "E0GRID"
GRID_TEAM_ID = "T0GRIDA"
OTHER_GRID_TEAM_ID = "T0GRIDB"
ORG_OF = {GRID_TEAM_ID: ORG_ID, OTHER_GRID_TEAM_ID: ORG_ID}
TEAM_NAMES = {
    TEAM_ID: "Lambert Test",
    SECOND_TEAM_ID: "Second Test",
    ORG_ID: "Grid Org",
    GRID_TEAM_ID: "Grid A",
    OTHER_GRID_TEAM_ID: "Grid B",
}
CHANNEL_ERRORS = ("channel_not_found", "is_archived", "not_in_channel")
TRIGGER_PREFIX = "trigger-"  # every trigger_id this fake's payloads carry
VIEW_LIMITS = {"modal": 100, "home": 100}  # blocks per view
OPTIONS_LIMIT = 100  # options of a static_select, or of a block_suggestion answer
WAIT_SECONDS = 15.0  # patience, not a limit: a missing event fails the test instead of hanging it;
# a real lambert process at DEBUG on a busy two-core machine can take seconds to answer
# What Slack's edge sends for a 503: HTML, not the Web API's JSON.


def user(
    user_id: str,
    name: str,
    *,
    admin: bool = False,
    owner: bool = False,
    tz: str = "America/New_York",
) -> dict[str, Any]:
    """A users.info `user` object. Slack reports owners as admins too; `tz` is the zone set in
    the user's profile (with its label and offset in seconds, as users.info gives them)."""
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": name.title(),
        "deleted": False,
        "is_bot": False,
        "is_admin": admin or owner,
        "is_owner": owner,
        "is_primary_owner": owner,
        "tz": tz,
        "tz_label": tz.rsplit("/", 1)[-1].replace("_", " ") + " Time",
        "tz_offset": _standard_offset(tz),
        "profile": {"display_name": name, "real_name": name.title()},
    }


def _standard_offset(tz: str) -> int:
    offset = datetime(2026, 1, 15, 12, tzinfo=ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def default_users() -> dict[str, dict[str, Any]]:
    return {
        MEMBER_ID: user(MEMBER_ID, "member"),
        ADMIN_ID: user(ADMIN_ID, "admin", admin=True, tz="Europe/Berlin"),
        OWNER_ID: user(OWNER_ID, "owner", owner=True),
    }


class Recording(Generic[T]):
    """An append-only list whose readers can await the next item they have not taken yet."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._taken: set[int] = set()
        self._changed = asyncio.Condition()

    async def add(self, item: T) -> None:
        async with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    async def next(
        self, match: Callable[[T], bool] = lambda _: True, seconds: float = WAIT_SECONDS
    ) -> T:
        """The oldest matching item not yet returned by next(); waits for one if there is none."""
        async with asyncio.timeout(seconds), self._changed:
            while True:
                for index, item in enumerate(self.items):
                    if index not in self._taken and match(item):
                        self._taken.add(index)
                        return item
                await self._changed.wait()


@dataclass(frozen=True)
class ApiCall:
    method: str
    args: dict[str, Any]
    authorization: str | None  # token redacted to its kind: "Bearer xoxb-(redacted)"
    status: int
    response: dict[str, Any]
    # Which token answered, by a name that is no secret: "<team>#<n>", the n-th bot token
    # the fake issued for that team (BOT_TOKEN is "T0LAMBERT#0"); None for any other token.
    bearer: str | None = None


@dataclass(frozen=True)
class ResponsePost:
    response_id: str
    body: dict[str, Any]


@dataclass
class FakeSlack:
    """Serves /api/<method>, /response/<id> and a Socket Mode websocket on 127.0.0.1."""

    users: dict[str, dict[str, Any]] = field(default_factory=default_users)
    channels: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {CHANNEL_ID: {"id": CHANNEL_ID, "name": "general"}}
    )
    api_calls: Recording[ApiCall] = field(default_factory=Recording)
    responses: Recording[ResponsePost] = field(default_factory=Recording)
    acks: Recording[dict[str, Any]] = field(default_factory=Recording)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> published

    def __post_init__(self) -> None:
        self._channel_errors: dict[str, str] = {}
        self._rate_limits: dict[str, list[int]] = {}  # method -> [calls left, retry_after]
        self._lost_answers: LostAnswers[str] = LostAnswers()  # by method, after the work
        self.late_release = self._lost_answers.late_release
        self.hangs = Hangs()  # requests that get no answer until hangs.release()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._exchanged_triggers: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        # OAuth: issued bot tokens -> their name, codes and refresh tokens -> their team.
        self.tokens: dict[str, str] = {BOT_TOKEN: f"{TEAM_ID}#0"}
        self.revoked: set[str] = set()
        self._codes: dict[str, str] = {}
        self._refresh: dict[str, str] = {}
        self._issued = itertools.count(1)
        self.token_seconds: dict[str, int] = {}  # team -> expires_in: token rotation is on

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{response_id}", self._response)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.late_release.set()  # a handler still holding back an answer lets go
        self.hangs.release()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The `base_url` for AsyncWebClient (the trailing slash matters)."""
        return f"{self.base_url}/api/"

    def client(self, token: str = BOT_TOKEN, **kwargs: Any) -> AsyncWebClient:
        """A real AsyncWebClient calling this fake (kwargs: retry_handlers, timeout...)."""
        return AsyncWebClient(token=token, base_url=self.api_url, **kwargs)

    def response_url(self, response_id: str | None = None) -> str:
        return f"{self.base_url}/response/{response_id or uuid.uuid4().hex}"

    # -- configuration -----------------------------------------------------------------------------

    def fail_channel(self, channel: str, error: str = "channel_not_found") -> None:
        """Make chat.postMessage / chat.postEphemeral to `channel` answer {"ok": false, "error"}."""
        if error not in CHANNEL_ERRORS:
            raise ValueError(f"unsupported channel error {error!r}")
        self._channel_errors[channel] = error

    def rate_limit(self, method: str, times: int, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with HTTP 429 and `Retry-After`."""
        self._rate_limits[method] = [times, retry_after]

    def lose_answers(self, method: str, fault: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` do their work (a post is stored), then the answer
        is lost (faults.LOST_ANSWERS)."""
        self._lost_answers.lose(method, fault, times)

    @contextlib.asynccontextmanager
    async def unreachable(self) -> AsyncIterator[None]:
        """Nothing listens on the port meanwhile (faults.unreachable)."""
        assert self._runner is not None
        (site,) = self._runner.sites
        async with unreachable(self._runner, site, self._runner.addresses[0][1]):
            yield

    # -- connection faults (Socket Mode start-up and reconnects) ----------------------------------

    def fail_connections_open(self, status: int | None = 503) -> None:
        """Answer apps.connections.open with HTTP `status` (an outage at Slack's end), until
        called with None. A rejected app token: put it in `rejected_tokens` (RemoteSlack) or
        use a token that does not start with xapp- (not_allowed_token_type)."""
        self._connections_open_status = status

    async def drop_sockets(self) -> None:
        """Close every open Socket Mode websocket (slack_sdk then asks for a new URL)."""
        for ws in list(self._sockets):
            await ws.close()

    def _connections_open_outage(self, method: str) -> web.Response | None:
        status: int | None = getattr(self, "_connections_open_status", None)
        if method != "apps.connections.open" or status is None:
            return None
        return web.json_response({"ok": False, "error": "service_unavailable"}, status=status)

    # -- awaiting what the bot did -----------------------------------------------------------------

    def calls(self, method: str) -> list[ApiCall]:
        return [call for call in self.api_calls.items if call.method == method]

    async def next_call(self, method: str) -> ApiCall:
        return await self.api_calls.next(lambda call: call.method == method)

    async def next_response(self, response_id: str | None = None) -> ResponsePost:
        return await self.responses.next(
            lambda post: response_id is None or post.response_id == response_id
        )

    async def wait_for_ack(self, envelope_id: str) -> dict[str, Any]:
        return await self.acks.next(lambda ack: ack.get("envelope_id") == envelope_id)

    async def push_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
        socket: int | None = None,
    ) -> str:
        """Send a Socket Mode envelope to the connected app (waiting for it to connect).

        Slack hands each envelope to one of the app's open connections (up to 10 per app):
        `socket` picks which, by the order they connected (None: the newest)."""
        async with asyncio.timeout(WAIT_SECONDS):
            await self._connected.wait()
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = type_ == "slash_commands"
        envelope = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        await self._sockets[-1 if socket is None else socket].send_str(json.dumps(envelope))
        return envelope_id

    async def wait_for_sockets(self, count: int) -> None:
        """Until `count` Socket Mode connections are open (one per replica on one app token)."""
        async with asyncio.timeout(WAIT_SECONDS):
            while len(self._sockets) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.005)

    # -- HTTP handlers -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        await self.hangs.hold(request)  # hang("POST", "/api/chat.postMessage"), e.g.
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: str(v) for k, v in (await request.post()).items()})
        token = _bearer(request.headers.get("Authorization"))
        status, headers = 200, {}
        if (outage := self._connections_open_outage(method)) is not None:
            return outage
        if method == "oauth.v2.access":
            body = self._oauth_access(request.headers.get("Authorization"), args)
            fault = self._lost_answers.next(method)  # the code is spent either way
            await self.api_calls.add(ApiCall(method, args, None, 200, body))
            return await self._lost_answers.deliver(request, fault, web.json_response(body))
        limit = self._rate_limits.get(method)
        if limit and limit[0] > 0:
            limit[0] -= 1
            status, headers = 429, {"Retry-After": str(limit[1])}
            body = {"ok": False, "error": "ratelimited"}
        else:
            body = self._answer(method, args, token)
            if body.get("ok") and method == "chat.postMessage":
                self.messages[(body["channel"], body["ts"])] = dict(args)
        fault = self._lost_answers.next(method) if status == 200 else None
        if fault == "503":
            status = 503
        bearer = self.tokens.get(token) if token else None
        await self.api_calls.add(ApiCall(method, args, _redact(token), status, body, bearer))
        answer = web.json_response(body, status=status, headers=headers)
        return await self._lost_answers.deliver(request, fault, answer)

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if token in self.revoked:
            return {"ok": False, "error": "token_revoked"}
        team = self.team_of(token)
        channel, ts = args.get("channel", ""), args.get("ts", "")
        match method:
            case "auth.test":
                org_wide = team.startswith("E")
                return {
                    "ok": True,
                    "url": f"https://{team.lower()}.slack.com/",
                    "team": TEAM_NAMES.get(team, team),
                    "user": "lambert",
                    "team_id": team,
                    "user_id": _bot_user(team),
                    "bot_id": _bot_id(team),
                    "enterprise_id": team if org_wide else ORG_OF.get(team),
                    "is_enterprise_install": org_wide,
                }
            case "apps.connections.open":
                if not token.startswith("xapp-"):
                    return {"ok": False, "error": "not_allowed_token_type"}
                ws_url = self.base_url.replace("http://", "ws://")
                return {"ok": True, "url": f"{ws_url}/link?ticket={uuid.uuid4()}"}
            case "chat.postMessage" | "chat.postEphemeral":
                if error := self._channel_errors.get(channel) or _missing_text(args):
                    return {"ok": False, "error": error}
                if method == "chat.postEphemeral":
                    return {"ok": True, "message_ts": self._next_ts()}
                return {"ok": True, "channel": channel, "ts": self._next_ts(), "message": args}
            case "chat.update":
                if (channel, ts) not in self.messages:
                    return {"ok": False, "error": "message_not_found"}
                self.messages[(channel, ts)].update(args)
                return {"ok": True, "channel": channel, "ts": ts, "text": args.get("text", "")}
            case "chat.unfurl":
                # Slack's rules: a message (channel + ts) or a composer (unfurl_id + source),
                # and an unfurls map from each URL to its blocks.
                unfurls = _json_arg(args.get("unfurls"))
                at = (channel and ts) or (args.get("unfurl_id") and args.get("source"))
                if not at or not unfurls:
                    return {"ok": False, "error": "invalid_arguments"}
                if any(not isinstance(u, dict) or "blocks" not in u for u in unfurls.values()):
                    return {"ok": False, "error": "invalid_unfurls_format"}
                return {"ok": True}
            case "chat.delete":
                if self.messages.pop((channel, ts), None) is None:
                    return {"ok": False, "error": "message_not_found"}
                return {"ok": True, "channel": channel, "ts": ts}
            case "users.info":
                if (found := self.users.get(args.get("user", ""))) is None:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "user": found}
            case "views.open":
                return self._open_view(args)
            case "views.publish":
                if args.get("user_id") not in self.users:
                    return {"ok": False, "error": "user_not_found"}
                view = _json_arg(args.get("view"))
                if (problem := view_problem(view, "home")) is not None:
                    return _invalid(problem)
                self.home_views[args["user_id"]] = view
                return {"ok": True, "view": self._stored_view(view)}
            case "conversations.info":
                if (found := self.channels.get(channel)) is None:
                    return {"ok": False, "error": "channel_not_found"}
                return {"ok": True, "channel": {"is_channel": True, "is_member": True, **found}}
        return {"ok": False, "error": "unknown_method"}

    # -- OAuth (many workspaces) --------------------------------------------------------------

    def team_of(self, token: str) -> str:
        """The workspace a bot token belongs to (any token the fake did not issue: TEAM_ID)."""
        name = self.tokens.get(token)
        return name.split("#", 1)[0] if name else TEAM_ID

    def approve(self, team: str) -> str:
        """A user of `team` clicked Allow on Slack's install page: the code Slack sends the
        browser back to the app's redirect URL with. An enterprise id (ORG_ID) is an
        org-wide install, a team of an organisation (ORG_OF) an install in that workspace."""
        code = f"code-{team}-{uuid.uuid4().hex[:8]}"
        self._codes[code] = team
        return code

    def revoke_team(self, team: str) -> None:
        """Every bot token of `team` stops working (the app was uninstalled there)."""
        self.revoked |= {t for t, name in self.tokens.items() if name.startswith(f"{team}#")}

    def _issue(self, team: str) -> dict[str, Any]:
        token = f"xoxb-{team}-{uuid.uuid4().hex[:12]}"
        self.tokens[token] = f"{team}#{next(self._issued)}"
        issued: dict[str, Any] = {"token_type": "bot", "access_token": token}
        if (seconds := self.token_seconds.get(team)) is not None:
            refresh = f"xoxe-1-{team}-{uuid.uuid4().hex[:12]}"
            self._refresh[refresh] = team
            issued |= {"refresh_token": refresh, "expires_in": seconds}
        return issued

    def _oauth_access(self, authorization: str | None, args: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: a code for an install, or (grant_type=refresh_token) a refresh
        token for a new bot token. The app authenticates with HTTP Basic (or form fields)."""
        client = (args.get("client_id"), args.get("client_secret"))
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            client = tuple(decoded.split(":", 1))  # type: ignore[assignment]
        if client != (CLIENT_ID, CLIENT_SECRET):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            team = self._refresh.pop(str(args.get("refresh_token")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return {"ok": True, **_installed_where(team), **self._issue(team)}
        team = self._codes.pop(str(args.get("code")), None)
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": ADMIN_ID},
            "scope": "commands,chat:write,users:read",
            "bot_user_id": _bot_user(team),
            **_installed_where(team),
            **self._issue(team),
        }

    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.open: a trigger_id from an interaction, good once (Slack's also expire in
        3 s; this fake never waits on the clock, so it does not model that)."""
        trigger = str(args.get("trigger_id") or "")
        if not trigger:
            return _invalid("[ERROR] missing required field: trigger_id")
        if not trigger.startswith(TRIGGER_PREFIX):
            return {"ok": False, "error": "invalid_trigger_id"}
        if trigger in self._exchanged_triggers:
            return {"ok": False, "error": "exchanged_trigger_id"}
        view = _json_arg(args.get("view"))
        if (problem := view_problem(view, "modal")) is not None:
            return _invalid(problem)
        self._exchanged_triggers.add(trigger)
        return {"ok": True, "view": self._stored_view(view)}

    def _stored_view(self, view: dict[str, Any]) -> dict[str, Any]:
        return {
            **view,
            "id": f"V{next(self._views):08d}",
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "state": {"values": {}},
            "hash": uuid.uuid4().hex[:20],
        }

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n}.{n:06d}"

    async def _response(self, request: web.Request) -> web.Response:
        post = ResponsePost(request.match_info["response_id"], await request.json())
        await self.responses.add(post)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()  # autoping answers the client's ping/pong heartbeat
        await ws.prepare(request)
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets) + 1,
            "debug_info": {"host": "fake-applink", "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }
        await ws.send_str(json.dumps(hello))
        self._sockets.append(ws)
        self._connected.set()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self.acks.add(json.loads(message.data))
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._connected.clear()
        return ws


def _installed_where(team: str) -> dict[str, Any]:
    """oauth.v2.access's fields naming where the app was installed: a team, a team of an
    organisation, or (an enterprise id) the whole organisation, with `team` null."""
    if team.startswith("E"):
        org = {"id": team, "name": TEAM_NAMES.get(team, team)}
        return {"team": None, "enterprise": org, "is_enterprise_install": True}
    org_id = ORG_OF.get(team)
    return {
        "team": {"id": team, "name": TEAM_NAMES.get(team, team)},
        "enterprise": {"id": org_id, "name": TEAM_NAMES[org_id]} if org_id else None,
        "is_enterprise_install": False,
    }


def _bot_user(team: str) -> str:
    return BOT_USER_ID if team == TEAM_ID else f"U0BOT{team[1:]}"


def _bot_id(team: str) -> str:
    return BOT_ID if team == TEAM_ID else f"B0BOT{team[1:]}"


def _bearer(header: str | None) -> str | None:
    if header and header.startswith("Bearer ") and len(header) > len("Bearer "):
        return header.removeprefix("Bearer ")
    return None


def _redact(token: str | None) -> str | None:
    return None if token is None else f"Bearer {token.split('-', 1)[0]}-(redacted)"


def _json_arg(value: Any) -> dict[str, Any]:
    """A JSON argument sent as an object (JSON body) or as a string (form body)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _invalid(message: str) -> dict[str, Any]:
    return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [message]}}


def view_problem(view: dict[str, Any], kind: str) -> str | None:
    """What Slack would refuse in a `kind` view ("modal" or "home"), or None. Checks the rules
    lambert's views could break: type, block count, title, submit with inputs, unique block
    ids, select and checkbox options, timepicker times."""
    if view.get("type") != kind:
        return f"[ERROR] must be a {kind} view [json-pointer:/view/type]"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or len(blocks) > VIEW_LIMITS[kind]:
        return f"[ERROR] no more than {VIEW_LIMITS[kind]} items allowed [json-pointer:/view/blocks]"
    if kind == "modal":
        title = view.get("title") or {}
        if title.get("type") != "plain_text" or not 0 < len(title.get("text", "")) <= 24:
            return "[ERROR] must be plain_text, 1 to 24 characters [json-pointer:/view/title]"
        if any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
            return "[ERROR] a view with input blocks needs submit [json-pointer:/view/submit]"
        if len(view.get("private_metadata", "")) > 3000:
            return "[ERROR] private_metadata over 3000 characters"
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(ids) != len(set(ids)):
        return "[ERROR] block_id must be unique [json-pointer:/view/blocks]"
    for block in blocks:
        if block.get("type") == "input" and not (block.get("label") and block.get("element")):
            return "[ERROR] an input block needs label and element"
        element = block.get("element") or block.get("accessory") or {}
        options = element.get("options", [])
        if element.get("type") == "static_select" and not 0 < len(options) <= OPTIONS_LIMIT:
            return f"[ERROR] 1 to {OPTIONS_LIMIT} options [json-pointer:/view/blocks]"
        if element.get("type") == "checkboxes":
            initial = element.get("initial_options")
            if not 0 < len(options) <= 10:
                return "[ERROR] 1 to 10 options [json-pointer:/view/blocks]"
            if initial is not None and not (initial and all(o in options for o in initial)):
                return "[ERROR] initial_options must be some of options [json-pointer:/view/blocks]"
        if element.get("type") == "timepicker" and "initial_time" in element:
            try:
                datetime.strptime(element["initial_time"], "%H:%M")
            except ValueError:
                return "[ERROR] initial_time must be HH:mm [json-pointer:/view/blocks]"
    return None


def _missing_text(args: dict[str, Any]) -> str | None:
    return None if args.get("text") or args.get("blocks") else "no_text"


# -- what Slack sends to the app ------------------------------------------------------------------


def slash_command_payload(
    text: str,
    *,
    response_url: str,
    user_id: str = MEMBER_ID,
    channel_id: str = CHANNEL_ID,
    command: str = "/lambert",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    org_wide: bool = False,
) -> dict[str, str]:
    """A slash command's fields (the form over HTTP, the envelope payload in Socket Mode).
    `org_wide`: the app is installed for the organisation of `team_id` (ORG_OF)."""
    org = {"enterprise_id": ORG_OF[team_id]} if team_id in ORG_OF else {}
    return {
        **org,
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "lambert-test",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "true" if org_wide else "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }


def _trigger_id() -> str:
    return f"{TRIGGER_PREFIX}{uuid.uuid4().hex[:12]}"


def slash_command_form(text: str, **fields: Any) -> str:
    """The form-encoded body Slack POSTs for a slash command (see slash_command_payload)."""
    return urlencode(slash_command_payload(text, **fields))


_CLICKED_TS = itertools.count(1)


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = MEMBER_ID,
    channel_id: str = CHANNEL_ID,
    message: dict[str, Any] | None = None,
    block_id: str = "lambert_actions",
    team_id: str = TEAM_ID,
    org_wide: bool = False,
) -> dict[str, Any]:
    """A button click (`block_actions`) on a message the app posted: `message`, or else a
    message of its own (each click without one is on a different preview). `org_wide`: the
    app is installed for the organisation of `team_id`, and Slack then sends no `team`."""
    ts = f"{1_600_000_000 + next(_CLICKED_TS)}.000001"
    message = message or {"type": "message", "ts": ts, "text": "", "blocks": []}
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": _trigger_id(),
        "team": None if org_wide else {"id": team_id, "domain": team_id.lower()},
        "enterprise": {"id": ORG_OF[team_id], "name": "Grid Org"} if team_id in ORG_OF else None,
        "is_enterprise_install": org_wide,
        "channel": {"id": channel_id, "name": "general"},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": value},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def message_action_payload(
    callback_id: str,
    text: str,
    *,
    response_url: str,
    ts: str = "1700000000.000100",
    thread_ts: str | None = None,
    user_id: str = MEMBER_ID,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A message shortcut (`message_action`) on a member's message `text` at `ts` (in the
    thread of `thread_ts` when given): the message itself rides in the payload."""
    message: dict[str, Any] = {"type": "message", "user": MEMBER_ID, "ts": ts, "text": text}
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "token": "deprecated-verification-token",
        "action_ts": f"{time.time():.6f}",
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": team_id.lower()},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "channel": {"id": channel_id, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "message_ts": ts,
        "message": message,
        "response_url": response_url,
    }


def interactive_form(payload: dict[str, Any]) -> str:
    """The HTTP body of an interaction: one form field `payload` holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


def signed_headers(
    secret: str,
    body: str,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers that make `body` pass (or, with an old timestamp, fail) Slack's verification.
    Events API callbacks are JSON (`content_type="application/json"`), the rest forms."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        or "",
    }


def _actor(user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def view_submission_payload(
    view: dict[str, Any],
    values: dict[str, dict[str, Any]],
    *,
    user_id: str = MEMBER_ID,
    team_id: str = TEAM_ID,
    org_wide: bool = False,
) -> dict[str, Any]:
    """A modal submitted: `view` as views.open returned it, its inputs' state `values`
    (block_id -> action_id -> the element's value, e.g. {"type": "timepicker",
    "selected_time": "09:00"}). `org_wide`: installed for the organisation of `team_id`."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_id.lower(), **_org_fields(team_id)},
        "user": {**_actor(user_id), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "trigger_id": _trigger_id(),
        "view": {**view, "state": {"values": values}},
        "response_urls": [],
        "is_enterprise_install": org_wide,
        "enterprise": _enterprise(team_id),
    }


def _enterprise(team_id: str) -> dict[str, str] | None:
    """An interaction's `enterprise`: the organisation of `team_id`, None outside Grid."""
    org_id = ORG_OF.get(team_id)
    return {"id": org_id, "name": TEAM_NAMES[org_id]} if org_id else None


def _org_fields(team_id: str) -> dict[str, str]:
    """What a Grid workspace's `team` object adds in a view_submission."""
    org_id = ORG_OF.get(team_id)
    return {"enterprise_id": org_id, "enterprise_name": TEAM_NAMES[org_id]} if org_id else {}


def block_suggestion_payload(
    view: dict[str, Any],
    block_id: str,
    action_id: str,
    typed: str,
    *,
    user_id: str = MEMBER_ID,
    team_id: str = TEAM_ID,
    org_wide: bool = False,
) -> dict[str, Any]:
    """An external_select of an open modal asking for options: `typed` is what the user typed."""
    return {
        "type": "block_suggestion",
        "user": {**_actor(user_id), "team_id": team_id},
        "container": {"type": "view", "view_id": view.get("id", "")},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "block_id": block_id,
        "action_id": action_id,
        "value": typed,
        "team": {"id": team_id, "domain": team_id.lower()},
        "enterprise": _enterprise(team_id),
        "is_enterprise_install": org_wide,
        "view": view,
    }


def home_action_payload(action_id: str, value: str, *, user_id: str = MEMBER_ID) -> dict[str, Any]:
    """A button clicked on the app's Home tab: a `view` container, no channel, no response_url."""
    return {
        "type": "block_actions",
        "user": _actor(user_id),
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": _trigger_id(),
        "team": {"id": TEAM_ID, "domain": "lambert-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": "V0HOME", "type": "home", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "home",
                "value": value,
                "text": {"type": "plain_text", "text": value},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def link_shared_event(urls: list[str], channel: str, message_ts: str) -> dict[str, Any]:
    """The Events API callback Slack sends when a message holds links to an unfurl domain."""
    event = app_home_opened_event(MEMBER_ID)
    event["event"] = {
        "type": "link_shared",
        "channel": channel,
        "user": MEMBER_ID,
        "message_ts": message_ts,
        "links": [{"url": url, "domain": url.split("/")[2]} for url in urls],
        "source": "conversations_history",
        "event_ts": message_ts,
    }
    return event


def app_home_opened_event(
    user_id: str, *, tab: str = "home", team_id: str = TEAM_ID, org_wide: bool = False
) -> dict[str, Any]:
    """The Events API callback Slack sends when `user_id` opens the app's Home (or Messages) tab."""
    now = int(time.time())
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "enterprise_id": ORG_OF.get(team_id),
        "api_app_id": APP_ID,
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D0{user_id[1:]}",
            "tab": tab,
            "event_ts": f"{now}.000100",
        },
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": ORG_OF.get(team_id),
                "team_id": None if org_wide else team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
        "is_ext_shared_channel": False,
    }


def removal_event(
    kind: str, team_id: str, *, org_wide: bool = False, authorizations: bool = True
) -> dict[str, Any]:
    """The Events API callback after the app left `team_id`: kind "app_uninstalled", or
    "tokens_revoked" (of its bot user). `org_wide`: the app was installed for the
    organisation of `team_id` (ORG_OF); Slack's examples then name a workspace of it in
    `team_id` and the organisation in `enterprise_id`. `authorizations=False`: a payload
    without them, as Slack's app_uninstalled example has it."""
    org_id = ORG_OF.get(team_id)
    now = int(time.time())
    event: dict[str, Any] = {"type": kind, "event_ts": f"{now}.000200"}
    if kind == "tokens_revoked":
        event["tokens"] = {"oauth": [], "bot": [_bot_user(org_id if org_wide else team_id)]}
    body: dict[str, Any] = {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "enterprise_id": org_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": now,
    }
    if authorizations:
        body["authorizations"] = [
            {
                "enterprise_id": org_id,
                "team_id": None if org_wide else team_id,
                "user_id": _bot_user(org_id if org_wide and org_id else team_id),
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ]
    return body
