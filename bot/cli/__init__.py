"""The `lambert` command line: argument parsing, one asyncio.run, and exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import load_dotenv

from bot import __version__
from bot.cli import daily, db, discord_tools, ops, quotes, run, slack_tools, stats, web
from bot.cli.common import Handler, add_common_options
from bot.config import ConfigError, default_db_path, load_settings
from bot.logs import setup_logging
from bot.quotes.corpus import CorpusError
from bot.storage.connection import DatabaseError, explain

DESCRIPTION = """\
Nathan Lambert's notes on open models, RLHF, DPO vs PPO, careers and reasoning, as a quote
bot for Discord and Slack. Every quote is shown exactly as its source has it; summaries of
his views are labelled as summaries.

With no command: serve the chat platforms configured in the environment (.env), or open
the console when none are."""

EPILOG = """\
examples:
  lambert                        console, or the configured platforms
  lambert console                type `/lambert dpo` as you would in chat
  lambert ask reward hacking     what `/lambert reward hacking` would answer
  lambert search "objective mismatch" --json
  lambert themes
  lambert web                    the web site on http://127.0.0.1:8080/

configuration: environment variables or a .env file; see config.example.env.
database: {database}
  (LAMBERT_DB or --db to choose another; a lambert.db left in the working folder by an older
  version is used first, with a note on moving it)"""

# Each module adds its subcommands; the order here is the order `--help` lists them.
COMMAND_MODULES = [run, quotes, web, daily, stats, ops, db, discord_tools, slack_tools]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambert",
        description=DESCRIPTION,
        epilog=EPILOG.format(database=default_db_path()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lambert {__version__}")
    add_common_options(parser, suppress_default=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    parser.set_defaults(handler=run.run_default)
    _name_commands(parser, "lambert")
    return parser


def _name_commands(parser: argparse.ArgumentParser, name: str) -> None:
    """Each subcommand knows its full name (`lambert daily set`), for error messages."""
    parser.set_defaults(command=name)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub_parser in action.choices.items():
                _name_commands(sub_parser, f"{name} {sub_name}")


# What a shell reports for a program its reader stopped listening to (128 + SIGPIPE).
BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """`lambert ARGV`; a reader that stops early (`| head`, `| true`) ends it quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a pipe closed early raises here, not at exit
    except BrokenPipeError:
        # Python's own advice (the signal module's docs, "Note on SIGPIPE"): point stdout at
        # devnull so the interpreter's flush at exit finds nothing to write and stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
    return code


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    # .env of the working directory (not of the installed package); the real environment wins.
    load_dotenv(Path.cwd() / ".env", override=False)
    try:
        settings = load_settings(
            db_path=args.db, corpus_path=args.corpus, database_url=args.database_url
        )
    except ConfigError as exc:
        sys.stderr.write(f"lambert: configuration error: {exc}\n")
        return 2
    handler: Handler = args.handler
    # A long-running server logs its events at INFO; one-shot commands and the console keep
    # the terminal for their own output unless LOG_LEVEL asks for more.
    default_level = "INFO" if run.serves(handler, settings) else "WARNING"
    setup_logging(settings.log_level or default_level, settings.secrets)
    if settings.db_note:
        sys.stderr.write(f"lambert: note: {settings.db_note}\n")
    try:
        return asyncio.run(handler(args, settings))
    except ConfigError as exc:
        sys.stderr.write(f"lambert: configuration error: {exc}\n")
        return 2
    except (CorpusError, DatabaseError) as exc:
        sys.stderr.write(f"lambert: {exc}\n")
        return 1
    except sqlite3.Error as exc:
        # A lock, a full disk or a read-only file met by a command's own writes.
        sys.stderr.write(f"lambert: {explain(exc, settings.db_path, f'`{args.command}`')}\n")
        return 1
    except KeyboardInterrupt:
        return 130
