"""How the core names a Slack channel, with one token or many: "WORKSPACE/CHANNELID"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.request import internals


def workspace_of(payload: Mapping[str, Any]) -> str:
    """The workspace whose install answers `payload` (by bolt's own reading of payloads, which
    differ in where they keep both ids): its team id (T...), or for an app installed across a
    whole Enterprise Grid organisation the organisation's id (E...), since one install, one
    token and one set of channel ids serve all of its workspaces."""
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


def workspace_prefix(workspace: str) -> str:
    """What every channel key of `workspace` starts with."""
    return channel_key(workspace, "")
