"""The Slack app manifest for each way of running lambert, from the adapter's own constants."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.adapters.slack.app import EVENTS_PATH
from bot.adapters.slack.blocks import ON_THIS
from bot.adapters.slack.oauth import REDIRECT_PATH, SCOPES, UNFURL_SCOPES
from bot.chat.quote_verbs import COMMAND
from bot.config import ConfigError

# Events that need no scope: the Home tab opened; the app removed from a workspace or its
# token revoked (lambert then turns that workspace's daily quotes off).
BOT_EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked")
USAGE = "[theme | words | search <words> | id <id> | themes | daily | help]"

HEADER = """\
# Paste into https://api.slack.com/apps -> "Create New App" -> "From a manifest".
# Made by `lambert slack manifest{options}`; run it again rather than editing this by hand
# (--http URL for HTTP mode, --oauth for many workspaces, --public-url URL for link previews).
# Walkthrough: docs/slack-setup.md.
"""


def _base_url(url: str, option: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            f"{option} must be an https:// address Slack can reach (got {url!r}), "
            "e.g. https://lambert.example.org"
        )
    return url.rstrip("/")


def build_manifest(
    *, http_url: str | None = None, oauth: bool = False, public_url: str | None = None
) -> dict[str, Any]:
    """The manifest as a dict: Socket Mode unless `http_url` is given; many workspaces with
    `oauth` (HTTP mode only, since Slack sends installers back to a URL); link previews of
    `public_url`. ConfigError, with the fix, for a mode that cannot work as asked."""
    if oauth and not http_url:
        raise ConfigError(
            "--oauth needs --http URL: installs from many workspaces come back to "
            f"{REDIRECT_PATH} on lambert's public HTTP address"
        )
    base = _base_url(http_url, "--http") if http_url else None
    url = f"{base}{EVENTS_PATH}"
    scopes, events, unfurl = [*SCOPES], [*BOT_EVENTS], {}
    if public_url:
        unfurl = {"unfurl_domains": [urlsplit(_base_url(public_url, "--public-url")).hostname]}
        scopes += UNFURL_SCOPES
        events.append("link_shared")
    return {
        "display_information": {
            "name": "lambert",
            "description": (
                "Nathan Lambert's notes on open models, RLHF and reasoning, with their sources."
            ),
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": "lambert", "always_online": False},
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": False,  # lambert reads no direct messages
                "messages_tab_read_only_enabled": False,
            },
            # "Lambert on this": a message shortcut needs no scope of its own.
            "shortcuts": [
                {
                    "name": "Lambert on this",
                    "type": "message",
                    "callback_id": ON_THIS,
                    "description": "The quote from Nathan Lambert's notes that fits this message",
                }
            ],
            "slash_commands": [
                {
                    "command": COMMAND,
                    "description": "A quote from Nathan Lambert's notes, with its source",
                    "usage_hint": USAGE,
                    "should_escape": False,
                    **({"url": url} if base else {}),
                }
            ],
            **unfurl,
        },
        "oauth_config": {
            **({"redirect_urls": [f"{base}{REDIRECT_PATH}"]} if oauth else {}),
            "scopes": {"bot": scopes},
        },
        "settings": {
            "event_subscriptions": {**({"request_url": url} if base else {}), "bot_events": events},
            "interactivity": {
                "is_enabled": True,
                **({"request_url": url, "message_menu_options_url": url} if base else {}),
            },
            # An Enterprise Grid organisation may install lambert once for all its workspaces.
            "org_deploy_enabled": True,
            "socket_mode_enabled": base is None,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(
    *, http_url: str | None = None, oauth: bool = False, public_url: str | None = None
) -> str:
    """The YAML Slack's "From a manifest" takes, with a header saying how it was made."""
    import yaml  # only this command needs it

    manifest = build_manifest(http_url=http_url, oauth=oauth, public_url=public_url)
    options = "".join(
        f" {flag}" + (f" {value}" if isinstance(value, str) else "")
        for flag, value in (("--http", http_url), ("--oauth", oauth), ("--public-url", public_url))
        if value
    )
    body = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(options=options) + body
