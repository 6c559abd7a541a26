"""Reading what a Slack payload's sender controls (bounded JSON, dicts that stay dicts), and how
the core names a Slack channel in every mode: "WORKSPACE/CHANNELID"."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_bolt.request import internals

from bot.chat.context import RequestContext

MAX_TEXT = 3000  # characters: Slack's own bound on private_metadata (a button value: 2000)
MAX_DEPTH = 8  # lambert writes two levels; a forger's 1,000 "[" never reach the parser's limit


def read_json(text: object, limit: int = MAX_TEXT) -> Any:
    """`text` parsed; None when not a string, longer than `limit`, not JSON or too deep."""
    if not isinstance(text, str) or len(text) > limit:
        return None
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return None
    return found if _depth(found, MAX_DEPTH) else None


def _depth(value: Any, room: int) -> bool:
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        return True
    return room > 0 and all(_depth(v, room - 1) for v in value)


def dict_at(value: Any, *keys: str) -> dict[str, Any]:
    """value[k1][k2]... when each is a dict, else {} (a forged payload's lists, strings)."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def str_at(value: Any, *keys: str) -> str:
    """value[k1]...[kn] when it is a string or a number, else ''."""
    *path, last = keys
    found = dict_at(value, *path).get(last)
    return str(found) if isinstance(found, str | int) and not isinstance(found, bool) else ""


def action_value(body: Any) -> str:
    """The clicked button's value; '' when a (forged) click carries none."""
    actions = body.get("actions") if isinstance(body, dict) else None
    return str_at(actions[0] if isinstance(actions, list) and actions else {}, "value")


def workspace_of(payload: Mapping[str, Any]) -> str:
    """The workspace whose install answers `payload`, as bolt reads it: its team id (T...), or
    for an org-wide Enterprise Grid install the organisation's (E...), whose one install,
    token and set of channel ids serve all of its workspaces."""
    body = dict(payload)
    if internals.extract_is_enterprise_install(body):
        return internals.extract_enterprise_id(body) or ""
    return internals.extract_team_id(body) or ""


def channel_key(workspace: str, channel: str) -> str:
    return f"{workspace}/{channel}"


def split_key(key: str) -> tuple[str, str]:
    """(workspace, channel) of a channel_key; ("", channel) for a bare id (`slack adopt`)."""
    workspace, _, channel = key.rpartition("/")
    return workspace, channel


def request_context(
    payload: Mapping[str, Any], channel: str, user: str, **more: Any
) -> RequestContext:
    space = workspace_of(payload)
    return RequestContext("slack", channel_key(space, channel), space, user, **more)
