"""What operators run: `lambert stats`, `health` (Docker's HEALTHCHECK), `backup`, and
`lambert db copy|rotate-key` (the daily state to PostgreSQL; the Slack tokens re-encrypted)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import arg, command, error, group, heading, open_core, output, refuse
from bot.platforms import served

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.stats.summary import Summary
    from bot.storage.copy import CopyReport

MAX_DAYS = 366


@command(
    "stats",
    "counts of commands, quotes shown and posted, per channel; never a user",
    "Counts over the last --days UTC days, every platform and channel: commands by verb\n"
    "and outcome, themes and quotes shown, quotes posted (preview and daily), the words\n"
    "of searches that found nothing (kept for a month). No user is recorded;\n"
    'LAMBERT_STATS=off keeps nothing. JSON: see docs/cli.md, "stats".',
    arg("--days", type=int, default=7, metavar="N", help=f"1 to {MAX_DAYS} (default 7)"),
    json=True,
)
async def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.stats.store import Scope
    from bot.stats.summary import summarise

    if not 1 <= args.days <= MAX_DAYS:
        return refuse(f"--days takes a number from 1 to {MAX_DAYS}")
    async with open_core(args, settings) as core:
        stats = core.stats
        summary = await summarise(
            stats.store, Scope(), args.days, stats.today(), recording=stats.recording, limit=20
        )
    return output(args, summary.to_json(), _stats_text(summary))


def _stats_text(s: Summary) -> str:
    from bot.chat.stats_verb import summary_lines

    out = [heading(f"Stats, every channel, last {s.days} days"), *summary_lines(s)]
    if s.channels:
        out.append(heading("Channels (commands, quotes shown, posted):"))
        for c in s.channels:
            space = f" in {c.space}" if c.space else ""
            out.append(f"  {c.platform}/{c.channel}{space}: {c.commands}, {c.shown}, {c.posted}")
    return "\n".join(line.replace("`", "") for line in out)


@command(
    "health",
    "exit 0 if the database is sound and configured platforms are connected",
    "Check the database (SQLite quick_check) and, for each configured platform, that the\n"
    "serving process reported it connected within the last 90 seconds (it writes a\n"
    "heartbeat every 30 s only while that platform is connected), and, with\n"
    "LAMBERT_DATABASE_URL, that PostgreSQL answers. Read-only: never creates or changes\n"
    "a database. Exit 0 when all is well, 1 otherwise (also when there is no database\n"
    "yet); one line per check, as serve's /readyz sees it. Used by the Docker HEALTHCHECK.\n"
    'JSON: {"ok", "database": {"ok", "path", "problem"}, "postgresql": null or {"ok",\n'
    '"problem"}, "platforms": [{"platform", "connected", "heartbeat_age_seconds"}]}.',
    json=True,
)
async def health_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serving.health import PlatformHealth, postgres_problem, read_health

    where, problem, warning = str(settings.db_path), None, None
    postgresql: dict[str, Any] | None = None
    states: list[PlatformHealth] = []
    try:
        states = await read_health(settings.db_path, [p.name for p in served(settings)])
    except FileNotFoundError:
        problem = "lambert has not run here yet (check LAMBERT_DB)"
        lines = [f"{heading('database:')} none at {where}: {problem}"]
    else:
        warning = _readable_by_others(settings.db_path) or None
        lines = [f"{heading('database:')} ok ({where})", *filter(None, [warning])]
        if settings.database_url:  # the daily state lives there: /readyz too
            unreachable = await postgres_problem(settings.database_url.reveal())
            postgresql = {"ok": unreachable is None, "problem": unreachable}
            state = f"NOT reachable: {unreachable}" if unreachable else "ok"
            lines.append(f"{heading('postgresql:')} {state}")
    lines += [heading(f"{s.platform}:") + s.describe().partition(":")[2] for s in states]
    ok = not problem and (postgresql or {}).get("ok", True) and all(s.connected for s in states)
    database = {"ok": not problem, "path": where, "problem": problem, "warning": warning}
    platforms = [
        {"platform": s.platform, "connected": s.connected, "heartbeat_age_seconds": s.age_seconds}
        for s in states
    ]
    payload = {"ok": ok, "database": database, "postgresql": postgresql, "platforms": platforms}
    output(args, payload, "\n".join(lines))
    return 0 if ok else 1


@command(
    "backup",
    "copy the database safely, even while lambert runs",
    "Copy the database with SQLite's online backup API (safe while the bot runs).\n"
    "Restore: stop lambert, copy the backup over LAMBERT_DB (remove any -wal/-shm\n"
    "files beside it), start lambert. Never replaces what is not a regular file. With\n"
    "LAMBERT_DATABASE_URL the shared state is in PostgreSQL: refuses, naming pg_dump.\n"
    'JSON: {"source", "target", "pages"}.',
    arg("path", type=Path, metavar="PATH", help="where to write the copy"),
    arg("--force", action="store_true", help="overwrite PATH if it exists"),
    json=True,
)
async def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.backup import BackupError, backup_database

    if settings.database_url:
        # The schedules, days, bags, claims and stats are in PostgreSQL: a copy of the SQLite
        # file would hold none of them, and a success would be a lie.
        url = _without_password(settings.database_url.reveal())
        return error(
            "with LAMBERT_DATABASE_URL the shared state is in PostgreSQL, not "
            f"in {settings.db_path}; back it up with PostgreSQL's own tool: pg_dump "
            f"--format=custom --file={args.path} '{url}' (the password from PGPASSWORD or "
            "~/.pgpass), restored with pg_restore"
        )

    try:
        pages = await backup_database(settings.db_path, args.path, overwrite=args.force)
    except BackupError as exc:
        return error(str(exc))
    payload = {"source": settings.db_path, "target": args.path, "pages": pages}
    return output(args, payload, f"backed up {settings.db_path} to {args.path} ({pages} pages)")


def _without_password(url: str) -> str:
    """`url` with no password in it (user part or query), for a command to copy and run."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}@" if parts.username else ""
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit(parts._replace(netloc=user + host, query=query))


def _readable_by_others(path: Path) -> str:
    """One warning line when group or others may use the database (it holds bot tokens)."""
    import shlex

    mode = path.stat().st_mode & 0o777
    if not mode & 0o077:
        return ""
    beside = (Path(f"{path}-wal"), Path(f"{path}-shm"))
    files = shlex.join(str(p) for p in (path, *beside) if p.exists())
    return (
        f"database: WARNING: {path} is open to other users (mode {mode:04o}) and holds bot "
        f"tokens; fix: chmod 600 {files}"
    )


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
    return output(args, vars(report), _copy_text(report))


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


def _copy_text(report: CopyReport) -> str:
    head = f"copied {report.source} to {report.target} in one transaction"
    if report.replaced:
        head += f", replacing the {sum(report.replaced.values())} rows that were there"
    width = max(len(name) for name in report.copied)
    lines = [f"  {name:<{width}}  {count:>6}" for name, count in report.copied.items()]
    return "\n".join([head + ":", *lines])
