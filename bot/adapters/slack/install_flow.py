"""bolt's OAuth flow, whose every failure is a page with a link to try again and one log line."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

import aiohttp
from slack_bolt.oauth.async_callback_options import AsyncFailureArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

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
