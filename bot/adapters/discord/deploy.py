"""Discord deploy steps: sync the slash commands over REST, build the invite URL offline."""

from __future__ import annotations

import base64

import discord

from bot.adapters.discord.client import build_tree
from bot.adapters.discord.poster import rest_client
from bot.adapters.discord.views import Responder
from bot.config import ConfigError, Settings
from bot.runtime import open_core

SCOPES = ("bot", "applications.commands")
# The bot may see channels, post, and show embeds; nothing more.
PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
# Added to a member's account: only the commands; it answers through interactions, no bot user.
USER_SCOPES = ("applications.commands",)
GUILD_INSTALL, USER_INSTALL = 0, 1  # Discord's integration types
NO_CLIENT_ID = (
    "DISCORD_TOKEN is not set: put the bot token in the environment or .env, "
    "or pass --client-id ID (the Application ID from the Developer Portal)"
)
UNREADABLE_ID = (
    "DISCORD_TOKEN does not start with a bot's user id, so it is not a bot token: copy the "
    "token again from the Developer Portal's Bot page, or pass --client-id ID"
)


async def sync_commands(settings: Settings, guild: int | None = None) -> list[str]:
    """Sync the tree (one server's, or global); the commands synced, as a member finds them."""
    async with rest_client(settings) as client, open_core(settings) as core:
        tree = build_tree(client, Responder(core))
        target = discord.Object(guild) if guild is not None else None
        if target is not None:
            tree.copy_global_to(guild=target)
        synced = await tree.sync(guild=target)
    slash = discord.AppCommandType.chat_input
    return [f"/{c.name}" if c.type is slash else f"{c.name!r} (message menu)" for c in synced]


def application_id(settings: Settings) -> int:
    """The bot's application id, read from DISCORD_TOKEN offline: a bot token's first part is
    its user id (its application's) in unpadded urlsafe base64. Errors never quote the token."""
    if not settings.discord_token:
        raise ConfigError(NO_CLIENT_ID)
    first = settings.discord_token.reveal().split(".")[0]
    try:
        digits = base64.b64decode(first + "=" * (-len(first) % 4), b"-_", validate=True)
        user_id = digits.decode("ascii")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ConfigError(UNREADABLE_ID) from None
    if not user_id.isdigit():
        raise ConfigError(UNREADABLE_ID)
    return int(user_id)


def invite_urls(client_id: int) -> tuple[str, str]:
    """The OAuth2 URLs that add `client_id` to a server, and to a member's own apps (no bot)."""
    # discord.py's oauth_url has no integration_type (2.7); it is one more query parameter.
    server = discord.utils.oauth_url(client_id, permissions=PERMISSIONS, scopes=SCOPES)
    user = discord.utils.oauth_url(client_id, scopes=USER_SCOPES)
    return f"{server}&integration_type={GUILD_INSTALL}", f"{user}&integration_type={USER_INSTALL}"
