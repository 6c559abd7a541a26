"""`lambert health` and `lambert backup`: what operators and Docker's HEALTHCHECK run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import arg, command, error, heading, output
from bot.platforms import served

if TYPE_CHECKING:
    from bot.config import Settings


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
    for platform in states:
        name, _, rest = platform.describe().partition(":")
        lines.append(f"{heading(name + ':')}{rest}")
    ok = not problem and (postgresql is None or postgresql["ok"])
    ok = ok and all(s.connected for s in states)
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
        error(
            "with LAMBERT_DATABASE_URL the shared state is in PostgreSQL, not "
            f"in {settings.db_path}; back it up with PostgreSQL's own tool: pg_dump "
            f"--format=custom --file={args.path} '{url}' (the password from PGPASSWORD or "
            "~/.pgpass), restored with pg_restore"
        )
        return 1

    try:
        pages = await backup_database(settings.db_path, args.path, overwrite=args.force)
    except BackupError as exc:
        error(str(exc))
        return 1
    return output(
        args,
        {"source": str(settings.db_path), "target": str(args.path), "pages": pages},
        f"backed up {settings.db_path} to {args.path} ({pages} pages)",
    )


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
    files = " ".join(shlex.quote(str(p)) for p in (path, *beside) if p.exists())
    return (
        f"database: WARNING: {path} is open to other users (mode {mode:04o}) and holds bot "
        f"tokens; fix: chmod 600 {files}"
    )
