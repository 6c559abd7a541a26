"""How the core names a Slack channel: its bare id with one workspace, "TEAMID/CHANNELID"
with many (a Slack Connect channel has one id in every workspace sharing it)."""

from __future__ import annotations

from dataclasses import dataclass


def channel_key(team: str, channel: str) -> str:
    """The core's name for a channel of workspace `team` (many workspaces)."""
    return f"{team}/{channel}"


def split_key(key: str) -> tuple[str, str]:
    """(team, channel) of a key made by channel_key; ("", channel) for a bare channel id."""
    team, _, channel = key.rpartition("/")
    return team, channel


def workspace_prefix(team: str) -> str:
    """What every channel key of workspace `team` starts with."""
    return channel_key(team, "")


@dataclass(frozen=True, slots=True)
class ChannelKeys:
    """The naming in force: `many` workspaces (OAuth) or one (SLACK_BOT_TOKEN)."""

    many: bool = False

    def key(self, team: str, channel: str) -> str:
        """The core's name for `channel` of workspace `team`."""
        return channel_key(team, channel) if self.many else channel

    def channel(self, key: str) -> str:
        """The Slack channel id a core name stands for."""
        return split_key(key)[1] if self.many else key

    def of_workspace(self, key: str, team: str) -> bool:
        """Whether the core's name `key` is a channel of workspace `team` (always, with one)."""
        return not self.many or key.startswith(workspace_prefix(team))


ONE_WORKSPACE = ChannelKeys()
