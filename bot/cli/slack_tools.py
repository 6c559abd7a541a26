"""`lambert slack adopt`: its arguments and output.

The work is in `bot.adapters.slack.adopt`, imported inside the step so that slack-bolt stays
unloaded by `lambert --help`, `lambert ask` and the console.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_command, error, print_json, refuse
from bot.config import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings


def register(commands: Any) -> None:
    parser = add_command(
        commands,
        "slack",
        _usage,
        "Slack operator steps: adopt the single-token channels into many workspaces",
        "Slack operator steps, run once (not on every start).",
    )
    steps = parser.add_subparsers(title="steps", metavar="STEP")
    adopt = add_command(
        steps,
        "adopt",
        adopt_command,
        "key the channels of the single-token days by their workspace",
        "Run once when moving from one workspace (SLACK_BOT_TOKEN) to many (SLACK_CLIENT_ID and\n"
        "SLACK_CLIENT_SECRET, installs through OAuth). With one token, lambert named a channel by\n"
        "its id alone; with many, by workspace and id. This renames the daily schedules, their\n"
        "history and shuffle bags, preview claims and stats of those channels to the token's\n"
        "workspace, so their daily posts go out with that workspace's install. Where a channel\n"
        "already has a schedule under its new name, that one is kept.\n"
        "The workspace: --workspace, else auth.test with SLACK_BOT_TOKEN (the old token, still\n"
        "set), else the one a single-token lambert recorded. Safe to run twice. Then unset\n"
        'SLACK_BOT_TOKEN. JSON: {"workspace", "schedules", "days", "bags", "previews",\n'
        '"stats_rows", "moved"}.',
        json_flag=True,
    )
    adopt.add_argument(
        "--workspace",
        metavar="ID",
        help="the old token's workspace: its team id (T...), or an org-wide Enterprise Grid "
        "install's organisation id (E...)",
    )


async def _usage(args: argparse.Namespace, settings: Settings) -> int:
    return refuse("choose a step: lambert slack adopt")


async def adopt_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.slack.adopt import adopt_for_operator

    try:
        adopted = await adopt_for_operator(settings, args.workspace)
    except ConfigError as exc:
        return refuse(str(exc))
    except ConnectionError as exc:
        error(f"{exc}; nothing was changed, try again later")
        return 1
    if adopted.installed is False:
        error(
            f"warning: the app is not installed in workspace {adopted.workspace} yet; "
            "its daily posts wait until it is installed through /slack/install"
        )
    if args.json:
        print_json(
            {
                "workspace": adopted.workspace,
                "schedules": adopted.schedules,
                "days": adopted.days,
                "bags": adopted.bags,
                "previews": adopted.previews,
                "stats_rows": adopted.stats_rows,
                "moved": adopted.moved,
            }
        )
        return 0
    then = ""
    if settings.slack_bot_token:
        then = "; now unset SLACK_BOT_TOKEN to serve many workspaces"
    sys.stdout.write(f"Keyed by workspace {adopted.workspace}: {adopted.summary()}{then}.\n")
    return 0
