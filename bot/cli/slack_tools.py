"""`lambert slack manifest` and `adopt`; the work is bot.adapters.slack's, imported in each step
so that slack-bolt stays unloaded by `lambert --help`, `lambert ask` and the console."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import arg, command, error, group, output, refuse
from bot.config import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings


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
    sys.stdout.write(text)
    return 0


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
        error(f"{exc}; nothing was changed, try again later")
        return 1
    payload = {"workspace": workspace, **moved._asdict(), "moved": moved.total}
    return output(args, payload, f"Keyed by workspace {workspace}: {moved.summary()}.")
