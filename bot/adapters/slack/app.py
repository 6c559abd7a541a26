"""The Slack adapter: slack-bolt events in, core calls, Block Kit out (Socket Mode or HTTP)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientConnectorError, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.listening import listen
from bot.adapters.slack.adopt import adopt_recorded
from bot.adapters.slack.blocks import (
    CANCEL,
    MORE,
    POST,
    SHUFFLE,
    error_message,
    read_shuffle_value,
    reply_message,
    shared_message,
)
from bot.adapters.slack.daily_form import DailyForm
from bot.adapters.slack.home import HomeTab
from bot.adapters.slack.http import RequestGuard
from bot.adapters.slack.keys import ChannelKeys, workspace_of, workspace_prefix
from bot.adapters.slack.modal import CHANGE, SETTINGS_VIEW, ZONE, change_button
from bot.adapters.slack.oauth import (
    INSTALL_PATH,
    PLATFORM,
    REDIRECT_PATH,
    REVOKED,
    UNINSTALLED,
    WorkspaceTokens,
    oauth_settings,
)
from bot.adapters.slack.poster import (
    SlackPoster,
    check_token,
    post_error,
    remember_workspace,
    web_client,
)
from bot.adapters.slack.respond import SharedSession
from bot.adapters.slack.users import SlackUser
from bot.chat.context import RequestContext
from bot.chat.grammar import another, answer, find_verb, strip_command
from bot.chat.quote_verbs import COMMAND
from bot.chat.replies import TextReply
from bot.chat.stats_verb import place, record_reply
from bot.config import ConfigError, Settings
from bot.ports import AmbiguousPostError
from bot.runtime import Core
from bot.serving.inflight import InFlight
from bot.serving.oneline import quiet

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
CLOSE_GRACE = 10.0  # seconds close() waits for answers already being worked on
ACK_GRACE = 3.0  # seconds close() waits for Socket Mode acks in hand (Slack's own ack timeout)
SOCKET_CONNECT_TIMEOUT = 30.0  # seconds for the websocket to open once Slack gave its URL
# slack_sdk's Socket Mode client logs here: one line per failure, no traceback.
SOCKET_LOG = logging.getLogger("slack_bolt.lambert.socket_mode")
# chat.postMessage refuses channels the bot is not in (and other people's DMs); the action's
# response_url can still post there, so Post falls back to it instead of failing.
POST_VIA_RESPONSE_URL = {"channel_not_found", "not_in_channel"}
ALREADY_POSTED = "Already posted."
FORM_OPENED = TextReply("Daily form opened.", ())  # how the stats count an opened form

Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]


def _action_value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))


def _channel_id(body: dict[str, Any]) -> str:
    return str((body.get("channel") or {}).get("id") or body["container"]["channel_id"])


def _preview_id(body: dict[str, Any]) -> str:
    """The clicked preview: the same for every click on it and for Slack's replays of one."""
    container = body.get("container") or {}
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
    user = (body.get("user") or {}).get("id") or ""
    return f"slack:{team}:{_channel_id(body)}:{user}:{container.get('message_ts', '')}"


def _click_context(body: dict[str, Any], channel: str) -> RequestContext:
    """Where a button was clicked (for the stats; no admin check needed)."""
    user = str((body.get("user") or {}).get("id") or "")
    return RequestContext(platform="slack", channel=channel, space=workspace_of(body), user=user)


def _user_name(user: dict[str, Any]) -> str:
    return str(user.get("name") or user.get("username") or "")


class SlackHandlers:
    """The listeners bolt calls. Each acks first, then works in a task; never a traceback."""

    def __init__(self, core: Core, admins: frozenset[str], *, many: bool = False) -> None:
        self.core = core
        self.admins = admins
        # Many workspaces (OAuth): the core knows a channel as "TEAMID/CHANNELID" (keys.py).
        self.many = many
        self.keys = ChannelKeys(many)
        self.in_flight = InFlight()
        self.home = HomeTab(core, admins, self.in_flight, self.keys)
        self.form = DailyForm(
            core, admins, self.in_flight, refresh_home=self.home.publish, keys=self.keys
        )

    def _after_ack(self, what: str, respond: Respond, work: Awaitable[Any]) -> None:
        """Answer in a task of our own, so the listener returns at once after its ack().

        bolt runs in process_before_response mode (see build_app): the ack goes back to
        Slack as soon as the listener returns, instead of bolt polling for it every 10 ms.
        The task is tracked for close(), and any failure becomes a short ephemeral.
        """
        self.in_flight.start(self._reporting_failure(what, respond, work), name=f"slack {what}")

    async def _reporting_failure(self, what: str, respond: Respond, work: Awaitable[Any]) -> None:
        try:
            await work
        except Exception:
            log.exception("slack: %s failed", what)  # the formatter redacts tokens
            try:
                await respond(response_type="ephemeral", replace_original=False, **error_message())
            except Exception:
                log.exception("slack: could not report the failure of %s", what)

    async def drain(self, grace: float = CLOSE_GRACE) -> None:
        """Wait for answers in progress (bolt runs them as tasks after the ack)."""
        await self.in_flight.drain(grace)

    def where(self, team: str, channel: str) -> str:
        """The core's name for `channel` of workspace `team`."""
        return self.keys.key(team, channel)

    def _clicked_in(self, body: dict[str, Any]) -> RequestContext:
        return _click_context(body, self.where(workspace_of(body), _channel_id(body)))

    async def is_admin(self, client: AsyncWebClient, user_id: str) -> bool:
        """Listed in LAMBERT_SLACK_ADMINS, or a workspace admin or owner per users.info."""
        return await SlackUser(client, user_id, self.admins).is_admin()

    async def command(
        self, ack: Ack, command: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        await ack()  # before anything that can wait: Slack gives up after 3 seconds
        self._after_ack(COMMAND, respond, self._answer(command, respond, client))

    async def _answer(
        self, command: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        text, user_id = str(command.get("text", "")), str(command["user_id"])
        channel = str(command["channel_id"])
        user = SlackUser(client, user_id, self.admins)  # users.info once, if at all
        team = workspace_of(command)
        ctx = RequestContext(
            platform="slack",
            channel=self.where(team, channel),
            space=team,
            user=user_id,
            user_name=str(command.get("user_name", "")),
            admin=user.is_admin,  # asked only by admin verbs (and `daily` below)
        )
        verb, rest = find_verb(strip_command(text))
        daily = verb is not None and verb.name == "daily"
        if daily and not rest and await user.is_admin():
            trigger = str(command.get("trigger_id", ""))
            if await self.form.open(client, trigger, user, channel, channel, team=team):
                # The form is the answer (a text status follows only if it failed to open).
                record_reply(self.core.stats, ctx, "daily", FORM_OPENED)
                return
        reply = await answer(self.core, text, ctx)
        message = reply_message(reply)
        status = daily and rest.casefold() in ("", "status") and isinstance(reply, TextReply)
        if status and await user.is_admin():
            message["blocks"].append(change_button(channel))
        await respond(response_type="ephemeral", **message)

    async def post(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        await ack()
        self._after_ack("Post", respond, self._share(body, respond, client))

    async def _share(self, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
        quote = await self.core.quotes.quote(_action_value(body))
        if quote is None:
            await respond(
                replace_original=True,
                text="That quote is no longer in the corpus. Try /lambert again.",
            )
            return
        # Claimed before posting: a second click, or Slack replaying this one, posts nothing.
        preview, channel = _preview_id(body), _channel_id(body)
        key = self.where(workspace_of(body), channel)
        if not await self.core.previews.claim(preview, "slack", key, datetime.now(UTC)):
            await respond(response_type="ephemeral", replace_original=False, text=ALREADY_POSTED)
            return
        message = shared_message(quote, _user_name(body.get("user") or {}))
        message_id: str | None = None
        try:
            sent = await client.chat_postMessage(
                channel=channel, unfurl_links=False, unfurl_media=False, **message
            )
            message_id = str(sent.get("ts") or "") or None
        except SlackApiError as exc:
            if exc.response.get("error") not in POST_VIA_RESPONSE_URL:
                if not isinstance(post_error(exc.response), AmbiguousPostError):
                    await self.core.previews.release(preview)  # Slack posted nothing
                raise
            await respond(response_type="in_channel", replace_original=False, **message)
        except ClientConnectorError:
            await self.core.previews.release(preview)  # it never reached Slack
            raise
        # Any other failure may have posted: the claim stays, a click again says so.
        await self.core.previews.record_posted(preview, message_id)
        self.core.stats.posted(place(self._clicked_in(body)), "preview")
        log.info(
            "slack: shared quote=%s channel=%s user=%s",
            quote.id,
            _channel_id(body),
            (body.get("user") or {}).get("id"),
        )
        await respond(delete_original=True)

    async def shuffle(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        await ack()
        self._after_ack("Shuffle", respond, self._shuffle(body, respond))

    async def _shuffle(self, body: dict[str, Any], respond: Respond) -> None:
        request, after = read_shuffle_value(_action_value(body))
        reply = await another(self.core, request, after, self._clicked_in(body))
        await respond(replace_original=True, **reply_message(reply))

    async def more(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        await ack()
        self._after_ack("More", respond, self._more(body, respond))

    async def _more(self, body: dict[str, Any], respond: Respond) -> None:
        """The next page of a result list, in place of this one: what `/lambert <value>`
        answers (the value is only ever a search request; anything else is answered as such)."""
        reply = await answer(self.core, _action_value(body), self._clicked_in(body))
        await respond(replace_original=True, **reply_message(reply))

    async def cancel(self, ack: Ack, respond: Respond) -> None:
        await ack()
        self._after_ack("Cancel", respond, respond(delete_original=True))

    async def removed(self, ack: Ack, body: dict[str, Any]) -> None:
        """app_uninstalled or tokens_revoked (of the bot): forget the workspace's install and
        turn its daily quotes off, saying why (bolt acks events once this returns)."""
        await ack()
        event = body.get("event") or {}
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # a user's token: lambert keeps none
        workspace = workspace_of(body)
        installs = self.core.installs
        if not self.many or installs is None or not workspace:
            # One workspace: its token is gone, and SLACK_BOT_TOKEN must be replaced anyway;
            # the daily posts fail with the reason until then.
            log.warning("slack: %s for workspace %s", event.get("type"), workspace or "-")
            return
        found = await installs.find_workspace(PLATFORM, workspace)
        if found is not None:
            await installs.delete(PLATFORM, found.enterprise_id, found.team_id)
        reason = UNINSTALLED if event.get("type") == "app_uninstalled" else REVOKED
        stopped = await self.core.daily.turn_off_where("slack", workspace_prefix(workspace), reason)
        log.info(
            "slack: workspace %s removed the app (%s); %d daily quotes off",
            workspace,
            event.get("type"),
            stopped,
        )


def build_app(
    handlers: SlackHandlers,
    client: AsyncWebClient,
    signing_secret: str,
    oauth: AsyncOAuthSettings | None = None,
) -> AsyncApp:
    """The bolt app with our listeners; the same app serves Socket Mode and HTTP.

    With `oauth` (many workspaces) bolt serves the install pages, and its authorize hands
    each listener a client holding the token of the workspace the request came from.
    """
    # The secret is passed even when empty (Socket Mode): bolt would otherwise read the env.
    # bolt's default logger follows the root level; a named one keeps setup_logging's cap, so
    # DEBUG does not dump whole envelopes (user text, response_url) into the log.
    # process_before_response: bolt answers Slack when a listener returns, and ours return
    # right after ack() (their work runs in tasks of their own). Without it bolt starts the
    # listener in a task and polls for its ack every 10 ms: acks waited 10 ms at least.
    app = AsyncApp(
        name="lambert",
        client=client,
        signing_secret=signing_secret,
        logger=logging.getLogger("slack_bolt.lambert"),
        process_before_response=True,
        oauth_settings=oauth,
        # Given here too, bolt's authorize is built with `client` (its base_url and retries),
        # so a token it refreshes goes through that; from the settings alone it would build
        # its own client for slack.com.
        installation_store=oauth.installation_store if oauth else None,
    )
    app.command(COMMAND)(handlers.command)
    app.action(POST)(handlers.post)
    app.action(SHUFFLE)(handlers.shuffle)
    app.action(CANCEL)(handlers.cancel)
    app.action(MORE)(handlers.more)
    app.event("app_uninstalled")(handlers.removed)
    app.event("tokens_revoked")(handlers.removed)
    app.action(CHANGE)(handlers.form.change)
    app.options(ZONE)(handlers.form.zones)
    app.view_submission(SETTINGS_VIEW)(handlers.form.submit)
    app.event("app_home_opened")(handlers.home.opened)
    return app


class AckingSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode that knows which envelopes are still on their way to an ack."""

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
    ) -> None:
        self.client = client
        self.settings = settings
        self.host = host or settings.slack_host
        self.many = settings.slack_many_workspaces
        self.handlers = SlackHandlers(core, settings.slack_admins, many=self.many)
        self.tokens: WorkspaceTokens | None = None
        oauth = None
        if self.many:
            assert core.installs is not None  # create_platform checked
            oauth = oauth_settings(settings, core.installs)
            self.tokens = WorkspaceTokens(settings, core.installs, client)
        secret = settings.slack_signing_secret.reveal()
        self.app = build_app(self.handlers, client, secret, oauth)
        self.responses = SharedSession()
        self.app.use(self.responses)
        self.guard = RequestGuard(settings.slack_signing_secret.reveal(), EVENTS_PATH)
        self._socket: AckingSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        quiet([SOCKET_LOG.name])

    @property
    def socket_mode(self) -> bool:
        return bool(self.settings.slack_app_token)

    async def start(self) -> None:
        """One attempt; ConfigError for a token Slack rejects or a port that is taken."""
        installs = self.handlers.core.installs
        if not self.many:  # with many, each workspace's token is checked at its install
            workspace = await check_token(self.client)
            if installs is not None:
                await remember_workspace(installs, workspace)
        else:
            # Channels named bare under one token get their workspace before any request or
            # daily post here can look for them by it.
            await adopt_recorded(self.handlers.core)
        self.responses.open()
        if self.socket_mode:
            await self._connect_socket()
            log.info("slack: connected in Socket Mode")
            return
        web_app = self.app.web_app(path=EVENTS_PATH)
        web_app.middlewares.append(self.guard.middleware)  # ahead of bolt's own handler
        self._runner = web.AppRunner(web_app)
        self.port = await listen(
            self._runner,
            self.host,
            self.settings.slack_port,
            ("LAMBERT_SLACK_HOST", "LAMBERT_SLACK_PORT"),
        )
        log.info("slack: listening on %s:%d%s", self.host, self.port, EVENTS_PATH)
        if self.many:
            log.info("slack: installs at %s, redirect %s", INSTALL_PATH, REDIRECT_PATH)

    async def _connect_socket(self) -> None:
        # apps.connections.open is asked here, not by slack_sdk: its connect() retries every
        # few seconds for ever (a rejected app token included), logging a traceback each time.
        url = await socket_url(self.client, self.settings.slack_app_token.reveal())
        self._socket = AckingSocketModeHandler(
            self.app,
            app_token=self.settings.slack_app_token.reveal(),
            web_client=self.client,
            logger=SOCKET_LOG,
        )
        self._socket.client.wss_uri = url
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
        return SlackPoster(self.client, self.tokens)

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


# Errors of apps.connections.open that another attempt cannot mend.
APP_TOKEN_REJECTED = {
    "invalid_auth",
    "not_authed",
    "not_allowed_token_type",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "missing_scope",
}


async def socket_url(client: AsyncWebClient, app_token: str) -> str:
    """A Socket Mode websocket URL from apps.connections.open; ConfigError for an app token
    Slack rejects, ConnectionError while Slack cannot be reached or fails (5xx)."""
    try:
        response = await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "")
        if code in APP_TOKEN_REJECTED:
            raise ConfigError(
                f"Slack rejected SLACK_APP_TOKEN ({code}): set it to the app-level token "
                "(xapp-..., scope connections:write) from the app's Basic Information page, "
                "or leave it empty to use HTTP mode"
            ) from None
        raise ConnectionError(
            f"Slack answered apps.connections.open with HTTP {exc.response.status_code}"
            + (f" ({code})" if code else "")
        ) from None
    return str(response["url"])


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
        return SlackPlatform(core, client or web_client(settings), settings, host=host)
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set; see docs/slack-setup.md")
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigError(
            "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode "
            "on LAMBERT_SLACK_PORT); see docs/slack-setup.md"
        )
    return SlackPlatform(core, client or web_client(settings), settings, host=host)
