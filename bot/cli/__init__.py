"""The `lambert` command line: argument parsing, one asyncio.run, and exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.cli.common import Commands, Handler, Parser, add_global_options, error, refuse
from bot.cli.quotes import console_command, serve_command
from bot.config import ConfigError, default_db_path, load_settings, unknown_variables
from bot.platforms import served

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

configuration: environment variables or a .env file; see config.example.env.
database: {database}
  (LAMBERT_DB or --db to choose another; a lambert.db left in the working folder by an older
  version is used first, with a note on moving it)"""

# The command modules, in the order `--help` lists their commands: importing one declares them.
# None imports anything heavy at its top (bot/cli/common.py): `lambert --help` imports them all.
MODULES = "quotes daily ops deploy completion"
for module in MODULES.split():
    importlib.import_module(f"bot.cli.{module}")


def build_parser() -> argparse.ArgumentParser:
    """The parser of `lambert`; a command's own parser is built when it is reached."""
    parser = Parser(
        prog="lambert",
        description=DESCRIPTION,
        epilog=EPILOG.format(database=default_db_path()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.fallback = "ask"  # `lambert dpo`: did you mean `lambert ask dpo`?
    parser.add_argument("-V", "--version", action="version", version=f"lambert {__version__}")
    add_global_options(parser, hidden=False)
    commands: Any = parser.add_subparsers(title="commands", metavar="COMMAND", action=Commands)
    commands.declare("")
    parser.set_defaults(handler=None, command="lambert", json=False, build_parser=build_parser)
    return parser


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
    # Imported once a command is chosen: `--help` and a usage error never need them.
    import asyncio
    import sqlite3

    from bot.cli.terminal import LoadProgress
    from bot.logs import setup_logging
    from bot.quotes.corpus import CorpusError
    from bot.storage.connection import DatabaseError, explain

    # .env of the working directory (not of the installed package); the real environment wins.
    if (Path.cwd() / ".env").is_file():
        from dotenv import load_dotenv  # only then: most one-shot runs have none

        load_dotenv(Path.cwd() / ".env", override=False)
    for warning in unknown_variables(os.environ):
        error(f"warning: {warning}")
    progress = None
    try:
        settings = load_settings(
            db_path=args.db, corpus_path=args.corpus, database_url=args.database_url
        )
        # Bare `lambert`: serve when a platform is configured, else the console.
        handler: Handler = args.handler or (serve_command if served(settings) else console_command)
        # A long-running server logs its events at INFO; one-shot commands and the console keep
        # the terminal for their own output unless LOG_LEVEL asks for more.
        default_level = "INFO" if handler is serve_command else "WARNING"
        setup_logging(settings.log_level or default_level, settings.secrets, settings.log_format)
        if settings.db_note:
            error(f"note: {settings.db_note}")
        # A big corpus load shows its progress on standard error; --json keeps the streams clean.
        args.progress = progress = (
            None if args.json else LoadProgress(sys.stderr, settings.corpus_path)
        )
        return asyncio.run(handler(args, settings))
    except ConfigError as exc:
        return refuse(f"configuration error: {exc}")
    except (CorpusError, DatabaseError) as exc:
        return error(str(exc))
    except sqlite3.Error as exc:
        # A lock, a full disk or a read-only file met by a command's own writes.
        return error(explain(exc, settings.db_path, f"`{args.command}`"))
    except KeyboardInterrupt:
        return 130
    finally:
        if progress is not None:
            progress.close()
