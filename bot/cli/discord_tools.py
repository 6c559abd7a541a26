"""`lambert discord sync` and `lambert discord invite`: deploy-time steps, over REST only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_command
from bot.config import ConfigError, Settings
from bot.runtime import open_service

if TYPE_CHECKING:
    import discord

# discord.py (a third of a second to import) is imported inside the steps, so that
# `lambert ask` and the console never load it.

SCOPES = ("bot", "applications.commands")


def register(commands: Any) -> None:
    parser = add_command(
        commands,
        "discord",
        _usage,
        "Discord deploy steps: sync the slash commands, print the invite URL",
        "Discord deploy steps, run once per deploy (not on every start). Both need DISCORD_TOKEN.",
    )
    steps = parser.add_subparsers(title="steps", metavar="STEP")
    sync = add_command(
        steps,
        "sync",
        sync_command,
        "register /lambert and /lambert-daily with Discord",
        "Register /lambert and /lambert-daily with Discord. Global commands can take a while\n"
        "to appear; --guild ID updates one server at once (for development).",
    )
    sync.add_argument("--guild", type=int, metavar="ID", help="sync to this server only")
    add_command(
        steps,
        "invite",
        invite_command,
        "print the URL that adds the bot to a server",
        "Print the URL that adds the bot to a server, with the bot and applications.commands\n"
        "scopes and only View Channel, Send Messages and Embed Links.",
    )


async def _usage(args: argparse.Namespace, settings: Settings) -> int:
    sys.stderr.write("lambert discord: choose a step: sync or invite (see --help)\n")
    return 2


@asynccontextmanager
async def rest_client(settings: Settings) -> AsyncIterator[discord.Client]:
    """A client logged in over REST, never connected to the gateway."""
    from bot.adapters.discord.poster import login, make_client, token_of

    token_of(settings)  # before anything is built: no token, no work
    client = make_client()
    try:
        await login(client, settings)
        yield client
    finally:
        await client.close()


def _refuse(exc: ConfigError) -> int:
    sys.stderr.write(f"lambert: {exc}\n")
    return 2


async def sync_commands(settings: Settings, guild: int | None = None) -> list[str]:
    """Send the command tree to Discord (one server's, or global); the names synced."""
    import discord

    from bot.adapters.discord.client import build_tree
    from bot.adapters.discord.views import Responder

    async with rest_client(settings) as client, open_service(settings) as service:
        tree = build_tree(client, Responder(service))
        target = discord.Object(guild) if guild is not None else None
        if target is not None:
            tree.copy_global_to(guild=target)
        synced = await tree.sync(guild=target)
    return [command.name for command in synced]


async def sync_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        names = await sync_commands(settings, args.guild)
    except ConfigError as exc:
        return _refuse(exc)
    where = f"server {args.guild}" if args.guild else "every server (may take a while to show)"
    sys.stdout.write(f"synced {', '.join('/' + n for n in names)} to {where}\n")
    return 0


async def invite_url(settings: Settings) -> str:
    """The OAuth2 URL: the bot may see channels, post, and show embeds; nothing more."""
    import discord

    async with rest_client(settings) as client:
        app = await client.application_info()
    permissions = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
    return discord.utils.oauth_url(app.id, permissions=permissions, scopes=SCOPES)


async def invite_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        url = await invite_url(settings)
    except ConfigError as exc:
        return _refuse(exc)
    sys.stdout.write(url + "\n")
    return 0
