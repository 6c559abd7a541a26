"""`lambert discord sync` and `invite`; the work is bot.adapters.discord.client's, imported in
each step so that discord.py (a third of a second) stays unloaded by `ask` and the console."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import arg, command, group, output, refuse
from bot.config import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings


group(
    "discord",
    "Discord deploy steps: sync the slash commands, print the invite URLs",
    "Discord deploy steps, run once per deploy (not on every start).",
    "choose a step: lambert discord sync or lambert discord invite",
    "steps",
)


@command(
    "discord sync",
    "register /lambert and /lambert-daily with Discord",
    "Register /lambert and /lambert-daily with Discord (logs in with DISCORD_TOKEN). Global\n"
    "commands can take a while to appear; --guild ID updates one server at once (for\n"
    "development).\n"
    'JSON: {"commands": ["lambert", ...], "guild": ID or null}.',
    arg("--guild", type=int, metavar="ID", help="sync to this server only"),
    json=True,
)
async def sync_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.discord.client import sync_commands

    try:
        names = await sync_commands(settings, args.guild)
    except ConfigError as exc:
        return refuse(str(exc))
    payload = {"commands": list(names), "guild": str(args.guild) if args.guild else None}
    where = f"server {args.guild}" if args.guild else "every server (may take a while to show)"
    return output(args, payload, f"synced {', '.join(names)} to {where}")


@command(
    "discord invite",
    "print the URLs that add lambert to a server or to your apps",
    "Print two URLs, each asking for the least it needs. Add to a server: the bot and\n"
    "applications.commands scopes, and only View Channel, Send Messages and Embed Links.\n"
    "Add to my apps (a user install: /lambert in DMs, group DMs and any server): only\n"
    "applications.commands, no bot, no permissions. Offline: the application id is\n"
    "--client-id, or else read from DISCORD_TOKEN.\n"
    'JSON: {"client_id", "server_url", "user_install_url"}.',
    arg("--client-id", type=int, metavar="ID", help="the Application ID (default: from the token)"),
    json=True,
)
async def invite_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.discord.client import application_id, invite_urls

    try:
        client_id = args.client_id if args.client_id is not None else application_id(settings)
    except ConfigError as exc:
        return refuse(str(exc))
    server, user = invite_urls(client_id)
    payload = {"client_id": str(client_id), "server_url": server, "user_install_url": user}
    return output(args, payload, f"Add to a server:  {server}\nAdd to my apps:   {user}")
