"""slack/manifest.yml parses and asks for exactly the command and scopes the adapter uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.slack.oauth import REDIRECT_PATH, SCOPES
from bot.chat.grammar import COMMAND

REPO = Path(__file__).resolve().parents[1]
ADAPTER_FILES = sorted((REPO / "bot" / "adapters" / "slack").glob("*.py"))
# Web API methods the adapter may call -> the bot scope each needs (None: no scope).
SCOPE_OF = {
    "apps_connections_open": None,  # with the app-level token (connections:write), no bot scope
    "auth_test": None,
    "chat_postEphemeral": "chat:write",  # confirming the daily form to the admin who saved it
    "chat_postMessage": "chat:write",
    "users_info": "users:read",
    "views_open": None,  # the daily form: a trigger_id is the permission, no scope
    "views_publish": None,  # the Home tab: no scope
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def web_api_calls() -> set[str]:
    source = "\n".join(path.read_text(encoding="utf-8") for path in ADAPTER_FILES)
    return set(re.findall(r"client\.(\w+)\(", source))


def test_every_web_api_call_of_the_adapter_has_a_known_scope() -> None:
    unknown = web_api_calls() - set(SCOPE_OF)
    assert not unknown, f"add {unknown} to SCOPE_OF and its scope to slack/manifest.yml"


def test_bot_scopes_are_exactly_what_the_code_uses(manifest: dict[str, Any]) -> None:
    used = {SCOPE_OF[call] for call in web_api_calls()} - {None}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {"commands"} | used
    assert "user" not in manifest["oauth_config"]["scopes"]  # no user-token scopes at all


def test_the_one_command_is_lambert_with_a_usage_hint(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["usage_hint"]
    assert len(command["description"]) <= 100


def test_socket_mode_and_interactivity_on_and_no_message_events(
    manifest: dict[str, Any],
) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    # Events that need no scope: the Home tab opened, the app removed from a workspace or
    # its token revoked. Never a message event.
    events = ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    assert settings["event_subscriptions"] == {"bot_events": events}
    assert "user_events" not in settings["event_subscriptions"]
    assert len(manifest["display_information"]["description"]) <= 140


def test_the_home_tab_is_on_and_the_messages_tab_off(manifest: dict[str, Any]) -> None:
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is False  # lambert reads no DMs


def test_every_listener_kind_bolt_registers_is_delivered(manifest: dict[str, Any]) -> None:
    """Socket Mode delivers commands, interactions, options and events over the socket; in
    HTTP mode each needs its URL, which the setup guide has the reader add (see below)."""
    source = (REPO / "bot" / "adapters" / "slack" / "app.py").read_text(encoding="utf-8")
    assert "app.options(" in source and "app.event(" in source
    assert manifest["settings"]["socket_mode_enabled"] is True
    guide = (REPO / "docs" / "slack-setup.md").read_text(encoding="utf-8")
    for field in ("request_url", "message_menu_options_url", "event_subscriptions"):
        assert field in guide, f"docs/slack-setup.md should say how to set {field} for HTTP mode"


def test_many_workspaces_redirect_back_to_bolts_redirect_path(manifest: dict[str, Any]) -> None:
    (url,) = manifest["oauth_config"]["redirect_urls"]
    assert url.startswith("https://") and url.endswith(REDIRECT_PATH)
    source = (REPO / "bot" / "adapters" / "slack" / "app.py").read_text(encoding="utf-8")
    for event in ("app_uninstalled", "tokens_revoked"):
        assert f'app.event("{event}")' in source
    assert list(SCOPES) == manifest["oauth_config"]["scopes"]["bot"]  # what an install asks


def test_an_organisation_may_install_it_once_for_all_its_workspaces(
    manifest: dict[str, Any],
) -> None:
    """The adapter serves org-wide installs (tests/test_slack_grid.py); Slack offers them
    only to an app with org deploy on."""
    assert manifest["settings"]["org_deploy_enabled"] is True
