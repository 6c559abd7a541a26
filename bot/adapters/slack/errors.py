"""What Slack's answer to a post means: permanent (with the fix), transient, or maybe posted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.ports import AmbiguousPostError, PermanentPostError, PostError, TransientPostError

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
