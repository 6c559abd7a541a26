"""Daily posts to Slack: the web client with its retry policy, the token check, the poster, and
what Slack's answer to a post means (permanent with the fix, transient, or maybe posted)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.slack.blocks import daily_message
from bot.adapters.slack.oauth import WorkspaceTokens, open_installs
from bot.adapters.slack.payload import split_key
from bot.config import ConfigError, Settings
from bot.ports import (
    POST_DEADLINE,
    AmbiguousPostError,
    PermanentPostError,
    PostError,
    TransientPostError,
)
from bot.quotes.models import Quote

SLACK_API = "https://slack.com/api/"
REQUEST_TIMEOUT = 15  # seconds per call; a slash command's work must end well inside a minute
RATE_LIMIT_RETRIES = 2
# Calls that change nothing, so a dropped connection is retried at once. Never a post: one
# whose connection dropped after the request went out may be stored, and again is twice.
READ_ONLY = frozenset({"auth.test", "users.info", "conversations.info", "apps.connections.open"})
MAX_INLINE_WAIT = 30.0  # a longer Retry-After goes back to the scheduler instead of blocking here

Sleep = Callable[[float], Awaitable[None]]

# Slack's own words for these: "It's possible some aspect of the operation succeeded".
MAYBE_DONE = frozenset({"fatal_error", "internal_error"})

REINSTALL = "reinstall the app (slack/manifest.yml) and update SLACK_BOT_TOKEN"
# Many workspaces: each has its own install, so the fix is that workspace's, not a variable.
_INSTALL_AGAIN = "install the app in that workspace again (/slack/install), then turn it on"
# Errors that will not go away by trying again: the schedule is disabled with this reason.
PERMANENT = {
    "channel_not_found": "the channel was not found: deleted, or private without the bot in it",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "not_in_channel": "the bot is not in the channel: /invite it, then turn the daily quote on",
    "is_inactive": "the channel is inactive",
    "no_permission": "the workspace does not let the bot post there",
    "restricted_action": "the workspace does not let the bot post in this channel",
    "restricted_action_read_only_channel": "the channel is read-only",
    "team_access_not_granted": "the workspace has not granted the app access to the channel",
    "ekm_access_denied": "the workspace's key management blocks the bot's posts",
}
# The same, about the bot's token: mended by a new token, whose source depends on the mode.
TOKEN_PROBLEMS = {
    "account_inactive": "the bot's Slack account is deactivated",
    "invalid_auth": "Slack rejected the bot token",
    "not_authed": "no bot token was sent",
    "token_revoked": "the bot token was revoked",
    "token_expired": "the bot token expired",
    "missing_scope": "the app lacks the chat:write scope",
}


def permanent_reason(code: str, *, many: bool = False) -> str | None:
    """Why a post failing with `code` never will, with the fix; None when another try may help."""
    if code in TOKEN_PROBLEMS:
        return f"{TOKEN_PROBLEMS[code]}: {_INSTALL_AGAIN if many else REINSTALL}"
    return PERMANENT.get(code)


def retry_after(headers: Mapping[str, Any], default: float = 1.0) -> float:
    """Seconds a 429 asks us to wait (its Retry-After header), whatever the header's case."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            # HttpResponse holds lists of values, SlackResponse plain strings.
            raw = value if isinstance(value, str) else (value[0] if value else "")
            try:
                return max(0.0, float(raw))
            except ValueError:
                return default
    return default


def post_error(response: Any, *, many: bool = False) -> PostError:
    """Our error for a failed chat.postMessage: ambiguous when Slack may have posted (a 5xx,
    or an error it says may have half-succeeded); any other `ok: false` posted nothing."""
    data = response.data if isinstance(response.data, dict) else {}  # an edge's 5xx is HTML
    code = str(data.get("error", "unknown_error"))
    if (reason := permanent_reason(code, many=many)) is not None:
        return PermanentPostError(f"{reason} ({code})")
    if response.status_code == 429 or code == "ratelimited":
        wait = retry_after(response.headers)
        return TransientPostError(f"Slack rate limit: retry in {wait:g} s", retry_after=wait)
    if response.status_code >= 500 or code in MAYBE_DONE:
        return AmbiguousPostError(f"Slack answered {response.status_code} ({code})")
    return TransientPostError(f"Slack error: {code}")


class Retries(AsyncRetryHandler):
    """A 429 waits what Retry-After asks, twice at most (a longer wait goes back to the caller);
    a dropped connection is retried once, READ_ONLY calls only; every wait through `sleep`."""

    def __init__(self, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(max_retry_count=RATE_LIMIT_RETRIES)
        self.sleep = sleep
        self.dropped = AsyncConnectionErrorRetryHandler()  # its reading of a dropped connection

    async def _can_retry_async(self, *, request: HttpRequest, **call: Any) -> bool:
        response: HttpResponse | None = call.get("response")
        if response is not None and response.status_code == 429:
            return retry_after(response.headers) <= MAX_INLINE_WAIT
        method = request.url.rsplit("/", 1)[-1].split("?", 1)[0]
        return method in READ_ONLY and await self.dropped.can_retry_async(request=request, **call)

    async def prepare_for_next_attempt_async(self, *, state: RetryState, **call: Any) -> None:
        state.next_attempt_requested = True
        response: HttpResponse | None = call.get("response")
        if response is not None and response.status_code == 429:
            wait = retry_after(response.headers)
        else:
            wait = self.interval_calculator.calculate_sleep_duration(state.current_attempt)
        await self.sleep(wait)
        state.increment_current_attempt()


def web_client(
    settings: Settings,
    *,
    base_url: str = SLACK_API,
    sleep: Sleep = asyncio.sleep,
    timeout: float = REQUEST_TIMEOUT,
) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token.reveal() or None,  # many workspaces: a token per call
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]  # slack_sdk says int; aiohttp takes a float
        retry_handlers=[Retries(sleep)],
    )


async def check_token(client: AsyncWebClient, fix: str = REINSTALL) -> str:
    """The bot token's workspace (payload.workspace_of) by auth.test, before anything posts: a
    mistyped token stops the bot, rather than disable every schedule one invalid_auth at a time."""
    response = await token_call(client.auth_test(), "auth.test", "SLACK_BOT_TOKEN", fix)
    if response.get("is_enterprise_install"):
        return str(response.get("enterprise_id") or "")
    return str(response.get("team_id") or "")


# Errors that say nothing about the token: Slack itself is failing.
SLACK_SIDE_ERRORS = MAYBE_DONE | {"ratelimited", "service_unavailable", "request_timeout"}


async def token_call(
    call: Awaitable[AsyncSlackResponse], method: str, variable: str, fix: str
) -> AsyncSlackResponse:
    """The answer to a call with the token in `variable`: ConfigError saying `fix` when Slack
    rejects it, ConnectionError while Slack fails or cannot be reached."""
    try:
        return await call
    except (aiohttp.ClientError, TimeoutError) as exc:  # its type only: no request in the log
        raise ConnectionError(f"could not reach Slack ({type(exc).__name__})") from None
    except SlackApiError as exc:
        status = exc.response.status_code
        code = str(exc.response.get("error") or "")
        if status >= 500 or status == 429 or code in SLACK_SIDE_ERRORS:
            detail = f" ({code})" if code else ""
            raise ConnectionError(f"Slack answered {method} with HTTP {status}{detail}") from None
        raise ConfigError(f"Slack rejected {variable} ({code or 'unknown_error'}): {fix}") from None


class SlackPoster:
    """The DailyPoster: each workspace's own token (`tokens`), or one token for its `workspace`."""

    platform = "slack"
    # chat.postMessage: ~1 a second per channel, bursts per workspace (the bound here, posts
    # going to distinct channels); 8 at ~100-300 ms is 25-80 a second, Retries waits out 429s.
    max_in_flight = 8

    def __init__(
        self,
        client: AsyncWebClient,
        tokens: WorkspaceTokens | None = None,
        workspace: str = "",
        public_url: str | None = None,
        *,
        deadline: float = POST_DEADLINE,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.workspace = workspace
        self.public_url = public_url  # LAMBERT_PUBLIC_URL: each post links its page there
        # The client's timeout bounds each call; this bounds them all (refresh, 429 waits).
        self.deadline = deadline

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        sending = False  # past this, a post cut short may have gone out
        try:
            async with asyncio.timeout(self.deadline):
                workspace, channel = split_key(channel)
                token = await self._token_for(workspace)
                sending = True
                return await self._send(token, channel, quote)
        except TimeoutError:
            if not sending:
                raise TransientPostError(
                    f"Slack did not answer within {self.deadline:g} s; nothing was sent"
                ) from None
            raise AmbiguousPostError(
                f"no answer from Slack within {self.deadline:g} s: it may have posted"
            ) from None

    async def _token_for(self, workspace: str) -> str | None:
        if self.tokens is not None:
            return await self.tokens.token_for(workspace)  # refreshed first when due
        if workspace and workspace != self.workspace:
            # Keyed for many workspaces, and not this token's: it cannot post there, and
            # Slack's channel_not_found would switch the schedule off for good.
            raise TransientPostError(
                f"this channel is Slack workspace {workspace}'s, and SLACK_BOT_TOKEN is "
                f"{self.workspace or 'unchecked'}'s: serve many workspaces (unset "
                "SLACK_BOT_TOKEN) to post there"
            )
        return self.client.token

    async def _send(self, token: str | None, channel: str, quote: Quote) -> str:
        # Slack has no idempotency key: `day` cannot make a resend safe, so nothing that may
        # have reached Slack is ever sent again (AmbiguousPostError without resend_within).
        try:
            response = await self.client.chat_postMessage(
                token=token,
                channel=channel,
                unfurl_links=False,
                unfurl_media=False,
                **daily_message(quote, self.public_url),
            )
        except SlackApiError as exc:
            raise post_error(exc.response, many=self.tokens is not None) from exc
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            raise TransientPostError(f"could not reach Slack ({type(exc).__name__})") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:  # the request may have gone out
            raise AmbiguousPostError(
                f"no answer from Slack ({type(exc).__name__}): it may have posted"
            ) from exc
        return str(response["ts"])


@asynccontextmanager
async def open_slack_poster(
    settings: Settings, stream: TextIO, *, client: AsyncWebClient | None = None
) -> AsyncIterator[SlackPoster]:
    """A poster without serving (`lambert daily tick`); `stream` is the console's, unused here."""
    client = client or web_client(settings)
    if settings.slack_many_workspaces:
        async with open_installs(settings) as installs:
            tokens = WorkspaceTokens(settings, installs, client)
            yield SlackPoster(client, tokens, public_url=settings.public_url)
        return
    yield SlackPoster(client, workspace=await check_token(client), public_url=settings.public_url)
