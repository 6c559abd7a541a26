"""bolt's OAuth flow: every failure a page with a link to try again and one log line; states
that need no row (a nonce and expiry, signed), so `GET /slack/install` writes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
from slack_bolt.oauth.async_callback_options import AsyncFailureArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

log = logging.getLogger(__name__)
QUIET = logging.getLogger("slack_bolt.lambert.oauth")
QUIET.setLevel(logging.ERROR)

SLACK_UNREACHABLE = "slack_unreachable"
# bolt's reasons (and ours) in an installer's words.
REASONS = {
    "access_denied": "the install was cancelled in Slack",
    "invalid_browser": "this browser did not start this install (or lost its cookie)",
    "invalid_state": "the install link expired or was used already",
    "missing_code": "Slack sent no authorization code",
    "invalid_code": "Slack did not confirm the install (the code was refused or expired)",
    "storage_error": "lambert could not save the install: its database failed",
    SLACK_UNREACHABLE: "Slack could not be reached to finish the install",
}
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Install not finished</title></head>
<body><h1>The install did not finish</h1>
<p>{what}.</p>
<p><a href="{again}">Try again</a></p></body></html>
"""


class InstallFlow(AsyncOAuthFlow):
    """Also for what escapes bolt: oauth.v2.access dropped or timed out, the database failing."""

    def __init__(self, settings: AsyncOAuthSettings) -> None:
        # bolt's own warning about a refused code would be a second line (with the code).
        super().__init__(settings=settings, logger=QUIET)
        self.failure_handler = self.failure_page

    async def handle_callback(self, request: AsyncBoltRequest) -> BoltResponse:
        try:
            return await super().handle_callback(request)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return self.page(SLACK_UNREACHABLE, exc, 502)
        except Exception as exc:  # the installation store: lambert's database
            return self.page("storage_error", exc, 503)

    async def failure_page(self, args: AsyncFailureArgs) -> BoltResponse:
        return self.page(args.reason, args.error, args.suggested_status_code)

    def page(self, reason: str, error: Exception | None, status: int) -> BoltResponse:
        what = REASONS.get(reason, f"Slack answered {reason}")
        # The error's type only: its text can hold the request (and the client secret).
        cause = f" ({type(error).__name__})" if error is not None else ""
        log.warning("slack: an install did not finish: %s%s", what, cause)
        body = PAGE.format(what=html.escape(what.capitalize()), again=self.install_path)
        headers: dict[str, str | Sequence[str]] = {
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": self.settings.state_utils.build_set_cookie_for_deletion(),
        }
        return BoltResponse(status=status, headers=headers, body=body)


# Used nonces, kept until they expire (a replay is refused), the oldest dropped past this many:
# a third lock, after the browser's state cookie (bolt's) and Slack's code being good once.
REMEMBERED = 10_000


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class SignedStates(AsyncOAuthStateStore):
    """`NONCE.EXPIRY.MAC`: good once until EXPIRY, on any replica with the same client secret."""

    def __init__(
        self, secret: str, seconds: float, *, clock: Callable[[], float] = time.time
    ) -> None:
        # A key of its own: the state's MAC never helps anyone learn the secret's other uses.
        self.key = hmac.new(secret.encode(), b"lambert oauth state", hashlib.sha256).digest()
        self.seconds = seconds
        self.clock = clock
        self.used: OrderedDict[str, float] = OrderedDict()

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        body = f"{secrets.token_urlsafe(16)}.{int(self.clock() + self.seconds)}"
        return f"{body}.{_mac(self.key, body)}"

    async def async_consume(self, state: str) -> bool:
        nonce, _, rest = state.partition(".")
        expiry, _, mac = rest.partition(".")
        body = f"{nonce}.{expiry}"
        expected = _mac(self.key, body).encode()
        if not hmac.compare_digest(expected, mac.encode("utf-8", "replace")):
            return False  # forged, truncated, or signed with another secret
        now = self.clock()
        if not expiry.isdigit() or int(expiry) <= now:
            return False
        while self.used and next(iter(self.used.values())) <= now:
            self.used.popitem(last=False)  # expired: refused by its expiry from now on
        if nonce in self.used:
            return False  # a replay
        self.used[nonce] = int(expiry)
        if len(self.used) > REMEMBERED:
            self.used.popitem(last=False)
        return True
