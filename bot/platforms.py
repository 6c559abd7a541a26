"""The chat platforms lambert knows, each declared once. Adapters are named by module path and
imported only when used: a Slack-only deployment never loads discord.py, `lambert ask` neither."""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.config import Settings


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    configured: Callable[[Settings], bool]  # settings hold what it needs to connect or post
    serve: str | None  # "module:function" of its ChatPlatform(settings, core); None: not served
    post: str  # "module:function" opening its DailyPoster(settings, console stream)
    admin_means: str  # who may change a channel's daily quote, in its own words, for refusals
    channel_id: re.Pattern[str]  # what a channel id looks like, to refuse a --channel typo
    channel_example: str
    # What `help` adds on this platform (the console's colon commands); verbs: the grammar's.
    help_lines: tuple[str, ...] = ()
    # "module:function" naming a typed channel as the core does ("WORKSPACE/CHANNEL"), if not as is.
    name_channel: str | None = None

    def load(self, target: str) -> Any:
        return pkgutil.resolve_name(target)


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(
            name="console",
            configured=lambda _: True,
            serve=None,
            post="bot.adapters.console:open_console_poster",
            admin_means="the console's admin role (`:as admin`)",
            channel_id=re.compile(r"\S{1,80}"),
            channel_example="console",
            help_lines=(
                "Console: `:as member` or `:as admin` who you are, `:channel NAME` where, "
                "`:time 08:59 Europe/Berlin` the clock, `:help` these; `another` the next match",
            ),
        ),
        Platform(
            name="discord",
            configured=lambda s: bool(s.discord_token),
            serve="bot.adapters.discord.client:create_platform",
            post="bot.adapters.discord.poster:open_discord_poster",
            admin_means="the Manage Server permission",
            channel_id=re.compile(r"\d{15,21}"),
            channel_example="1234567890123456789",
        ),
        Platform(
            name="slack",
            configured=lambda s: bool(s.slack_bot_token) or s.slack_many_workspaces,
            serve="bot.adapters.slack.app:create_platform",
            post="bot.adapters.slack.poster:open_slack_poster",
            name_channel="bot.adapters.slack.adopt:channel_name",
            admin_means="a workspace admin or owner (or a user listed in LAMBERT_SLACK_ADMINS)",
            # "WORKSPACE/CHANNELID" (T... or org-wide E...): a Slack Connect channel has one id
            # in every workspace sharing it. A bare id: SLACK_BOT_TOKEN's workspace.
            channel_id=re.compile(r"(?:[TE][A-Z0-9]{6,}/)?[CGD][A-Z0-9]{6,}"),
            channel_example="C0123456789",
        ),
    )
}

# A Slack workspace in a channel name: a team (T...) or an Enterprise Grid organisation (E...),
# never a channel id (C..., G..., D...): keying channels by one would rename them all for good.
WORKSPACE_ID = re.compile(r"[TE][A-Z0-9]{2,}")
# What an error message may repeat of the value it refuses: an operator may paste a token.
_ECHOABLE = re.compile(r"[A-Za-z0-9]{1,24}/?")


def shown(value: str) -> str:
    """`value` quoted, if it is short and alphanumeric, else "the value given"."""
    return repr(value) if _ECHOABLE.fullmatch(value) else "the value given"


def served(settings: Settings) -> tuple[Platform, ...]:
    """The chat platforms `lambert serve` connects with these settings."""
    return tuple(p for p in PLATFORMS.values() if p.serve and p.configured(settings))
