"""`lambert console`, `lambert serve`, and bare `lambert`, which picks between them."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import command, error, open_core
from bot.platforms import served

if TYPE_CHECKING:
    from bot.config import Settings

NO_PLATFORM = """\
no chat platform is configured, so there is nothing to serve.
  Set DISCORD_TOKEN and/or SLACK_BOT_TOKEN (see config.example.env), or try the
  same commands locally with `lambert console`."""


@command(
    "console",
    "chat with the bot in this terminal (no tokens needed)",
    "Chat with the bot in this terminal, no tokens needed: type what you would type in chat.\n"
    "Its own commands try everything locally: :as member or :as admin, :channel NAME, and\n"
    ":time 08:59 Europe/Berlin (or :time 2025-03-10T08:59Z, :time now) moves its clock,\n"
    "so a daily quote set here prints when due. :help lists them. Piped input is\n"
    "answered line by line: echo dpo | lambert console",
)
async def console_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.console import run_console

    async with open_core(args, settings, integrity_check=True) as core:  # it writes
        # Line editing, history and colour when both streams are a terminal (run_console).
        return await run_console(core, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())


@command(
    "serve",
    "connect to the platforms configured in the environment",
    "Connect to Discord (DISCORD_TOKEN) and/or Slack (SLACK_BOT_TOKEN) and post the daily "
    "quotes. Exits 2 when no platform is configured.",
)
async def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    if not served(settings):
        error(NO_PLATFORM)
        return 2
    from bot.serving.serve import serve  # deferred: `ask` and `console` never import the adapters

    return await serve(settings)


def serves(handler: object, settings: Settings) -> bool:
    """Whether `handler` will run the long-lived server."""
    return handler is serve_command or (handler is run_default and bool(served(settings)))


async def run_default(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: serve when a platform is configured, else the console."""
    if served(settings):
        return await serve_command(args, settings)
    return await console_command(args, settings)
