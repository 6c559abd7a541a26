"""Operator channels by workspace: `daily set --channel C...` with one token, `slack adopt`."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.payload import channel_key
from bot.adapters.slack.poster import check_token, web_client
from bot.config import ConfigError, Settings
from bot.platforms import WORKSPACE_ID, shown
from bot.storage.engine import open_engine
from bot.storage.rekey import Rekeyed, key_by_workspace

USE_THE_OLD_ONE = "set it to the bot token the single-workspace bot used, or pass --workspace T..."
NO_WORKSPACE = "set SLACK_BOT_TOKEN to the token the bot used before, or pass --workspace T..."


async def channel_name(
    settings: Settings, channel: str, *, client: AsyncWebClient | None = None
) -> str:
    """`channel` as the core names it: "T.../C..." as is, a bare id in the token's workspace."""
    if "/" in channel:
        return channel
    if not settings.slack_bot_token:
        raise ConfigError(
            f"--channel {channel} names no workspace: give WORKSPACE/{channel} (a team id "
            "like T0123ABCD, or an org-wide install's E...), or set SLACK_BOT_TOKEN"
        )
    return channel_key(await check_token(client or web_client(settings)), channel)


async def adopt_for_operator(
    settings: Settings, workspace_id: str | None = None, *, client: AsyncWebClient | None = None
) -> tuple[str, Rekeyed]:
    """The workspace named, else SLACK_BOT_TOKEN's (auth.test), and what was keyed by it."""
    if workspace_id is None:
        if not settings.slack_bot_token:
            raise ConfigError(f"no workspace to key the channels by: {NO_WORKSPACE}")
        workspace_id = await check_token(client or web_client(settings), USE_THE_OLD_ONE)
    if not WORKSPACE_ID.fullmatch(workspace_id):
        raise ConfigError(
            f"{shown(workspace_id)} is not a Slack workspace id: a team id like T0123ABCD "
            "(or an Enterprise Grid organisation's, E0123ABCD), in capitals"
        )
    url = settings.database_url.reveal() if settings.database_url else ""
    async with open_engine(settings.db_path, url) as engine, engine.begin() as conn:
        return workspace_id, await conn.run_sync(key_by_workspace, workspace_id)
