"""`lambert db copy`: move an installation's daily state from its SQLite file to PostgreSQL;
`lambert db rotate-key`: encrypt the Slack installs' tokens with LAMBERT_SECRET_KEY's first key."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import arg, command, group, open_core, output, refuse

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage.copy import CopyReport


group(
    "db",
    "move the daily state to PostgreSQL (copy); re-encrypt the tokens (rotate-key)",
    "The database itself. `lambert db copy` moves an installation's state to PostgreSQL;\n"
    "`lambert db rotate-key` re-encrypts the Slack installs' tokens.",
    "say what to do: lambert db copy --to postgresql://..., or lambert db rotate-key",
)


@command(
    "db copy",
    "copy the SQLite file's shared state into PostgreSQL, in one transaction",
    "Copy what replicas share from the SQLite file (--db or LAMBERT_DB), read-only, into\n"
    "the PostgreSQL database (--to or LAMBERT_DATABASE_URL), migrated first, in one\n"
    "transaction: every table of the shared state (schedules, days, bags, previews,\n"
    "stats, installs), but not the leases (they name live processes).\n"
    "The quotes are not copied: each process rebuilds them from the corpus. Refuses a\n"
    "database that already holds any of these rows unless --force, which replaces them,\n"
    "and one a lambert still runs on (it holds a lease there) even with --force.\n"
    "Stop lambert first, copy, then start the replicas with LAMBERT_DATABASE_URL set.\n"
    'Prints the rows copied per table. JSON: {"source", "target", "copied": {table: N},\n'
    '"replaced": {table: N}}. The password is never printed.',
    # The same destination as --database-url: the URL is validated, and its password kept
    # out of every log line, before the command runs.
    arg(
        "--to",
        dest="database_url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="postgresql://user:password@host:5432/db (default: $LAMBERT_DATABASE_URL; the "
        "variable is safer: other users of this machine can read a command line)",
    ),
    arg("--force", action="store_true", help="replace the state already in that database"),
    json=True,
)
async def copy_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.copy import copy_to_postgres

    if not settings.database_url:
        return refuse(
            "no database to copy into; give --to "
            "postgresql://user:password@host:5432/db or set LAMBERT_DATABASE_URL"
        )
    report = await copy_to_postgres(
        settings.db_path, settings.database_url.reveal(), replace=args.force
    )
    payload = {
        "source": str(report.source),
        "target": report.target,
        "copied": report.copied,
        "replaced": report.replaced,
    }
    return output(args, payload, render(report))


@command(
    "db rotate-key",
    "encrypt every Slack install's tokens with LAMBERT_SECRET_KEY's first key",
    "Re-encrypt the bot and refresh tokens of every Slack install in the database with the\n"
    "first key of LAMBERT_SECRET_KEY, in one transaction; tokens kept in clear are\n"
    "encrypted too. To rotate: set LAMBERT_SECRET_KEY=NEW,OLD, run this, then drop OLD.\n"
    'JSON: {"installs": N}.',
    json=True,
)
async def rotate_key_command(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.secret_key:
        return refuse(
            "LAMBERT_SECRET_KEY is not set: set it to the new key (then the old ones, "
            "comma-separated) and run this again"
        )
    async with open_core(args, settings) as core:
        assert core.installs is not None  # open_core keeps them in the shared state
        count = await core.installs.reseal()
    text = f"encrypted the tokens of {count} Slack install(s) with the first key"
    return output(args, {"installs": count}, text)


def render(report: CopyReport) -> str:
    """`copied SOURCE to TARGET in one transaction:` then one `  table  rows` line per table."""
    head = f"copied {report.source} to {report.target} in one transaction"
    if report.replaced:
        head += f", replacing the {sum(report.replaced.values())} rows that were there"
    width = max(len(name) for name in report.copied)
    lines = [f"  {name:<{width}}  {count:>6}" for name, count in report.copied.items()]
    return "\n".join([head + ":", *lines])
