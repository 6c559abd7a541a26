"""What every subcommand shares: the storage and corpus options, the handler type, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.config import Settings

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def add_common_options(parser: argparse.ArgumentParser, *, suppress_default: bool) -> None:
    """--db, --corpus and --database-url, accepted before or after the subcommand name.

    A subcommand's copy must not reset a value given before it, hence SUPPRESS there.
    """
    default = argparse.SUPPRESS if suppress_default else None
    parser.add_argument(
        "--db", metavar="PATH", default=default, help="SQLite database (default: $LAMBERT_DB)"
    )
    parser.add_argument(
        "--corpus",
        metavar="PATH",
        default=default,
        help="corpus file (default: $LAMBERT_CORPUS or the bundled corpus)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=default,
        help="postgresql://user:password@host:port/db for the daily state, shared by replicas "
        "(default: $LAMBERT_DATABASE_URL; unset: the SQLite database). Prefer the variable: "
        "other users of this machine can read a command line",
    )


def add_command(
    commands: Any,
    name: str,
    handler: Handler,
    help_text: str,
    description: str = "",
    *,
    json_flag: bool = False,
) -> argparse.ArgumentParser:
    """A subcommand with the common options (and `--json` if asked) and its handler attached."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help_text,
        description=description or help_text,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser, suppress_default=True)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=handler)
    return parser


def print_json(payload: dict[str, Any]) -> None:
    """Exactly one JSON object on standard output, for scripts."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
