"""Each platform's deploy steps: `lambert discord sync|invite`, `lambert slack manifest|adopt`.

The work is the adapters', imported in each step: discord.py (a third of a second) and
slack-bolt stay unloaded by `lambert --help`, `ask` and the console."""

from __future__ import annotations

import argparse

from bot.cli.common import arg, command, error, group, output, refuse
from bot.config import ConfigError, Settings

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


group(
    "slack",
    "Slack operator steps: the app manifest; key channels named without their workspace",
    "Slack operator steps: print the app's manifest for your mode; key the channels a\n"
    "database named without their workspace (once).",
    "choose a step: lambert slack manifest, or lambert slack adopt",
    "steps",
)


@command(
    "slack manifest",
    "print the Slack app manifest for your mode, ready to paste",
    'Print the app manifest to paste into Slack\'s "Create New App" -> "From a manifest":\n'
    "exactly the scopes, events and URLs that mode needs. With no option: Socket Mode, one\n"
    "workspace (slack/manifest.yml is this output).\n"
    "  lambert slack manifest --http https://lambert.example.org --oauth > manifest.yml",
    arg(
        "--http",
        metavar="URL",
        help="HTTP mode: lambert's public https address (requests go to URL/slack/events)",
    ),
    arg(
        "--oauth",
        action="store_true",
        help="many workspaces, installed through URL/slack/install (needs --http)",
    ),
    arg(
        "--public-url",
        metavar="URL",
        help="the web site's address (LAMBERT_PUBLIC_URL): Slack previews links to it",
    ),
)
async def manifest_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.slack.manifest import manifest_yaml

    try:
        text = manifest_yaml(http_url=args.http, oauth=args.oauth, public_url=args.public_url)
    except ConfigError as exc:
        return refuse(str(exc))
    return output(args, {}, text.removesuffix("\n"))


@command(
    "slack adopt",
    "key the channels of the single-token days by their workspace",
    "lambert names a Slack channel by its workspace and id. Upgrading keys the channels\n"
    "an older lambert named by id alone with the workspace its token recorded; a database\n"
    "that never recorded one keeps them bare until this step: it renames their daily\n"
    "schedules, history and shuffle bags, preview claims and stats to the workspace\n"
    "(--workspace, else SLACK_BOT_TOKEN's by auth.test). Where a channel already has a\n"
    "schedule under its new name, that one is kept. Safe to run twice.\n"
    'JSON: {"workspace", "schedules", "days", "bags", "previews", "stats_rows", "moved"}.',
    arg(
        "--workspace",
        metavar="ID",
        help="the old token's workspace: its team id (T...), or an org-wide Enterprise Grid "
        "install's organisation id (E...)",
    ),
    json=True,
)
async def adopt_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.slack.adopt import adopt_for_operator

    try:
        workspace, moved = await adopt_for_operator(settings, args.workspace)
    except ConfigError as exc:
        return refuse(str(exc))
    except ConnectionError as exc:
        return error(f"{exc}; nothing was changed, try again later")
    payload = {"workspace": workspace, **moved._asdict(), "moved": moved.total}
    return output(args, payload, f"Keyed by workspace {workspace}: {moved.summary()}.")
