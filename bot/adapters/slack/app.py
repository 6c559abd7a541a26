"""The Slack adapter: the bolt app with lambert's listeners, over Socket Mode or HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.listening import LIMITS, Limits, Ration, listen
from bot.adapters.slack import blocks
from bot.adapters.slack.after_ack import SharedSession
from bot.adapters.slack.install_flow import InstallFlow
from bot.adapters.slack.listeners import SlackHandlers
from bot.adapters.slack.modal import CHANGE, SETTINGS_VIEW, ZONE
from bot.adapters.slack.oauth import INSTALL_PATH, REDIRECT_PATH, WorkspaceTokens, oauth_settings
from bot.adapters.slack.poster import SlackPoster, check_token, token_call, web_client
from bot.chat.quote_verbs import COMMAND
from bot.config import ConfigError, Settings
from bot.logs import one_line, quiet
from bot.runtime import Core
from bot.serving.inflight import InFlight

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
ACK_GRACE = 3.0  # seconds close() waits for Socket Mode acks in hand (Slack's own ack timeout)
SOCKET_CONNECT_TIMEOUT = 30.0  # seconds for the websocket to open once Slack gave its URL
# slack_sdk's Socket Mode client logs here: one line per failure, no traceback.
SOCKET_LOG = logging.getLogger("slack_bolt.lambert.socket_mode")
_BOLT_LOG = logging.getLogger("slack_bolt.lambert")
# bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns at every
# start that it is unused: lambert's client holds exactly that token.
_BOLT_LOG.addFilter(lambda record: "`token` will be unused" not in record.getMessage())


def build_app(
    handlers: SlackHandlers,
    client: AsyncWebClient,
    signing_secret: str,
    oauth: AsyncOAuthSettings | None = None,
) -> AsyncApp:
    """The bolt app with our listeners; with `oauth`, bolt serves the install pages too."""
    # The secret is passed even when empty (Socket Mode): bolt would otherwise read the env.
    # A named logger keeps setup_logging's cap: DEBUG does not dump whole envelopes (user
    # text, response_url). process_before_response: bolt answers Slack when a listener
    # returns, instead of starting it in a task and polling for its ack every 10 ms.
    app = AsyncApp(
        name="lambert",
        client=client,
        signing_secret=signing_secret,
        logger=_BOLT_LOG,
        process_before_response=True,
        oauth_flow=InstallFlow(settings=oauth) if oauth else None,  # its failures get a page
        # Given here too, bolt's authorize refreshes tokens through `client` (its base_url and
        # retries), not a client of its own for slack.com.
        installation_store=oauth.installation_store if oauth else None,
    )
    app.error(listener_failed)
    app.command(COMMAND)(handlers.command)
    app.action(blocks.POST)(handlers.post)
    app.action(blocks.SHUFFLE)(handlers.shuffle)
    app.action(blocks.CANCEL)(handlers.cancel)
    app.action(blocks.MORE)(handlers.more)
    app.event("app_uninstalled")(handlers.removed)
    app.event("tokens_revoked")(handlers.removed)
    app.action(CHANGE)(handlers.change)
    app.options(ZONE)(handlers.zones)
    app.view_submission(SETTINGS_VIEW)(handlers.submit)
    app.event("app_home_opened")(handlers.home_opened)
    app.shortcut(blocks.ON_THIS)(handlers.on_this)  # "Lambert on this"
    app.action(blocks.ON_THIS_POST)(handlers.on_this_post)
    app.action(blocks.ON_THIS_ANOTHER)(handlers.on_this_another)
    if handlers.public_url:  # links to the site unfurl (links:read, links:write; docs/web.md)
        app.event("link_shared")(handlers.link_shared)
    return app


async def listener_failed(error: Exception, ack: AsyncAck) -> BoltResponse:
    """What a listener raised on a signed request: one line, the ack made (200) or a 400."""
    log.warning("slack: a request could not be handled (%s)", one_line(error))
    if ack.response is not None and ack.response.status == 200:
        return ack.response
    return BoltResponse(status=400, body="")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RequestGuard:
    """HTTP mode's front door around bolt's (signature-checking) handler for POSTs to `path`:
    what bolt would raise on gets a 400, not a 500; refusals one log line per reason a minute."""

    def __init__(self, path: str, *, ration: Ration | None = None) -> None:
        self.path = path
        self.ration = ration or Ration()

    def note(self, reason: str, status: int, peer: str | None) -> None:
        if (also := self.ration.allow(reason)) is not None:
            line = "slack: refused a request to /slack/events, %s: %d from %s%s"
            log.warning(line, reason, status, peer or "?", also)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != self.path or request.method != "POST":
            return await handler(request)
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        # bolt's verifier raises on a timestamp int() refuses; its error handler would log each
        if stamp and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            reason = "timestamp is not a number"
        else:
            try:
                response = await handler(request)
            except web.HTTPException:  # aiohttp's own: a body over client_max_size (413)
                raise
            except Exception as exc:  # reading or parsing the body: bolt verifies after that
                reason = f"bolt could not read the body ({type(exc).__name__})"
            else:
                if response.status == 401:  # bolt's verification (its own line is INFO)
                    self.note("bad, stale or no signature", 401, request.remote)
                return response
        self.note(reason, 400, request.remote)
        return web.Response(status=400, text=f"{reason}\n")


class AckingSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode that knows which envelopes are still on their way to an ack (`acking`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acking = InFlight()

    async def handle(self, client: Any, req: Any) -> None:
        with self.acking.track():
            await super().handle(client, req)  # returns once the ack is sent


class SlackPlatform:
    """`lambert serve`'s Slack: Socket Mode with SLACK_APP_TOKEN, else HTTP on slack_port."""

    name = "slack"

    def __init__(
        self,
        core: Core,
        client: AsyncWebClient,
        settings: Settings,
        *,
        host: str | None = None,
        limits: Limits = LIMITS,
    ) -> None:
        self.client = client
        self.limits = limits  # of the HTTP listener (listening.py)
        self.settings = settings
        self.host = host or settings.slack_host
        self.many = settings.slack_many_workspaces
        self.handlers = SlackHandlers(
            core, settings.slack_admins, many=self.many, public_url=settings.public_url
        )
        self.tokens: WorkspaceTokens | None = None
        self.workspace = ""  # the one token's (auth.test), once started; "" with many
        oauth = None
        if self.many:
            assert core.installs is not None  # create_platform checked
            self.tokens = WorkspaceTokens(settings, core.installs, client)
            oauth = oauth_settings(settings, self.tokens)
        secret = settings.slack_signing_secret.reveal()
        self.app = build_app(self.handlers, client, secret, oauth)
        self.responses = SharedSession()
        self.app.use(self.responses)
        self.guard = RequestGuard(EVENTS_PATH)  # what bolt raises on: a 400, not a 500
        self._socket: AckingSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        quiet([SOCKET_LOG.name])

    async def start(self) -> None:
        """One attempt; ConfigError for a token Slack rejects or a port that is taken."""
        if not self.many:  # with many, each workspace's token is checked at its install
            self.workspace = await check_token(self.client)
        self.responses.open()
        if self.settings.slack_app_token:  # Socket Mode
            await self._connect_socket()
            log.info("slack: connected in Socket Mode")
            return
        web_app = self.app.web_app(path=EVENTS_PATH)
        web_app.middlewares.append(self.guard.middleware)  # around bolt's own handler
        self._runner, self.port = await listen(
            web_app,
            self.host,
            self.settings.slack_port,
            ("LAMBERT_SLACK_HOST", "LAMBERT_SLACK_PORT"),
            self.limits,
        )
        log.info("slack: listening on %s:%d%s", self.host, self.port, EVENTS_PATH)
        if self.many:
            log.info("slack: installs at %s, redirect %s", INSTALL_PATH, REDIRECT_PATH)

    async def _connect_socket(self) -> None:
        # apps.connections.open is asked here, not by slack_sdk: its connect() retries every
        # few seconds for ever (a rejected app token included), logging a traceback each time.
        app_token = self.settings.slack_app_token.reveal()
        fix = (
            "set it to the app-level token (xapp-..., scope connections:write) from the app's "
            "Basic Information page, or leave it empty to use HTTP mode"
        )
        opened = self.client.apps_connections_open(app_token=app_token)
        answer = await token_call(opened, "apps.connections.open", "SLACK_APP_TOKEN", fix)
        self._socket = AckingSocketModeHandler(
            self.app, app_token=app_token, web_client=self.client, logger=SOCKET_LOG
        )
        self._socket.client.wss_uri = str(answer["url"])
        try:
            async with asyncio.timeout(SOCKET_CONNECT_TIMEOUT):
                await self._socket.connect_async()  # type: ignore[no-untyped-call]  # untyped
        except TimeoutError:
            raise ConnectionError(
                f"the Socket Mode websocket did not open within {SOCKET_CONNECT_TIMEOUT:g} s"
            ) from None

    @property
    def connected(self) -> bool:
        if self._runner is not None:
            return True  # HTTP mode: listening is all Slack needs
        if self._socket is None:
            return False
        client = self._socket.client
        session = client.current_session
        return not client.closed and not client.stale and session is not None and not session.closed

    async def wait_lost(self) -> None:
        # slack_sdk reconnects Socket Mode by itself (one line per failure), and an HTTP
        # listener is never lost: `connected` tells the heartbeat how it is going.
        await asyncio.get_running_loop().create_future()

    def poster(self) -> SlackPoster:
        return SlackPoster(self.client, self.tokens, self.workspace, self.settings.public_url)

    async def close(self) -> None:
        if self._socket is not None:
            # Acks travel over the socket: a command in hand that lost its ack would be answered
            # while Slack shows the user an error for it.
            await self._socket.acking.drain(ACK_GRACE)
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # untyped in bolt
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.handlers.drain()
        await self.responses.close()


def create_platform(
    settings: Settings,
    core: Core,
    *,
    client: AsyncWebClient | None = None,
    host: str | None = None,
) -> SlackPlatform:
    """The Slack platform for `settings`; ConfigError when it has no way to receive commands."""
    if settings.slack_many_workspaces:
        if not settings.slack_signing_secret or settings.slack_app_token:
            raise ConfigError(
                "Slack for many workspaces (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET) runs in HTTP "
                "mode: set SLACK_SIGNING_SECRET and leave SLACK_APP_TOKEN empty; see "
                "docs/slack-setup.md"
            )
        if core.installs is None:
            raise ConfigError("Slack for many workspaces needs lambert's database for installs")
    elif not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set; see docs/slack-setup.md")
    elif not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigError(
            "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode "
            "on LAMBERT_SLACK_PORT); see docs/slack-setup.md"
        )
    return SlackPlatform(core, client or web_client(settings), settings, host=host)
