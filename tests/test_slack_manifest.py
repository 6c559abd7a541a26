"""slack/manifest.yml parses and asks for exactly the command and scopes the adapter uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.slack.manifest import build_manifest, manifest_yaml
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
    http = build_manifest(http_url="https://lambert.example.org")
    url = "https://lambert.example.org/slack/events"
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["event_subscriptions"]["request_url"] == url
    assert http["settings"]["interactivity"]["request_url"] == url
    assert http["settings"]["interactivity"]["message_menu_options_url"] == url
    assert http["features"]["slash_commands"][0]["url"] == url
    assert "redirect_urls" not in http["oauth_config"]  # one workspace: no installs


def test_many_workspaces_redirect_back_to_bolts_redirect_path() -> None:
    oauth = build_manifest(http_url="https://lambert.example.org/", oauth=True)
    assert oauth["oauth_config"]["redirect_urls"] == [
        f"https://lambert.example.org{REDIRECT_PATH}"
    ]
    source = (REPO / "bot" / "adapters" / "slack" / "app.py").read_text(encoding="utf-8")
    for event in ("app_uninstalled", "tokens_revoked"):
        assert f'app.event("{event}")' in source
    assert list(SCOPES) == oauth["oauth_config"]["scopes"]["bot"]  # what an install asks


def test_an_organisation_may_install_it_once_for_all_its_workspaces(
    manifest: dict[str, Any],
) -> None:
    """The adapter serves org-wide installs (tests/test_slack_grid.py); Slack offers them
    only to an app with org deploy on."""
    assert manifest["settings"]["org_deploy_enabled"] is True


def test_the_committed_manifest_is_the_commands_default_output() -> None:
    committed = (REPO / "slack" / "manifest.yml").read_text(encoding="utf-8")
    assert committed == manifest_yaml(), "run: lambert slack manifest > slack/manifest.yml"


def test_socket_mode_names_no_url_at_all(manifest: dict[str, Any]) -> None:
    assert "https://" not in yaml.safe_dump(manifest)
    assert "redirect_urls" not in manifest["oauth_config"]


def test_link_previews_only_with_a_public_address(manifest: dict[str, Any]) -> None:
    assert "unfurl_domains" not in manifest["features"]
    assert not {"links:read", "links:write"} & set(manifest["oauth_config"]["scopes"]["bot"])
    web = build_manifest(public_url="https://quotes.example.org")
    assert web["features"]["unfurl_domains"] == ["quotes.example.org"]
    assert {"links:read", "links:write"} <= set(web["oauth_config"]["scopes"]["bot"])
    assert "link_shared" in web["settings"]["event_subscriptions"]["bot_events"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--oauth"], "--oauth needs --http URL"),
        (["--http", "http://lambert.example.org"], "--http must be an https:// address"),
        (["--public-url", "quotes.example.org"], "--public-url must be an https:// address"),
    ],
)
def test_a_mode_that_cannot_work_is_refused_with_the_fix(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    assert main(["slack", "manifest", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lambert: {message}") and err.count("\n") == 1
