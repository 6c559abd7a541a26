"""`lambert health` and `lambert backup`: what operators and Docker's HEALTHCHECK run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_command, error, heading, print_json
from bot.platforms import served

if TYPE_CHECKING:
    from bot.config import Settings


def register(commands: Any) -> None:
    add_command(
        commands,
        "health",
        health_command,
        "exit 0 if the database is sound and configured platforms are connected",
        "Check the database (SQLite quick_check) and, for each configured platform, that the\n"
        "serving process reported it connected within the last 90 seconds (it writes a\n"
        "heartbeat every 30 s only while that platform is connected), and, with\n"
        "LAMBERT_DATABASE_URL, that PostgreSQL answers. Read-only: never creates or changes\n"
        "a database. Exit 0 when all is well, 1 otherwise (also when there is no database\n"
        "yet); one line per check, as serve's /readyz sees it. Used by the Docker HEALTHCHECK.\n"
        'JSON: {"ok", "database": {"ok", "path", "problem"}, "postgresql": null or {"ok",\n'
        '"problem"}, "platforms": [{"platform", "connected", "heartbeat_age_seconds"}]}.',
        json_flag=True,
    )
    backup = add_command(
        commands,
        "backup",
        backup_command,
        "copy the database safely, even while lambert runs",
        "Copy the database with SQLite's online backup API (safe while the bot runs).\n"
        "Restore: stop lambert, copy the backup over LAMBERT_DB (remove any -wal/-shm\n"
        "files beside it), start lambert.\n"
        'JSON: {"source", "target", "pages"}.',
        json_flag=True,
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")


async def health_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serving.health import NoDatabase, PlatformHealth, postgres_problem, read_health

    where = str(settings.db_path)
    database: dict[str, Any] = {"ok": True, "path": where, "problem": None}
    postgresql: dict[str, Any] | None = None
    states: list[PlatformHealth] = []
    try:
        states = await read_health(settings.db_path, [p.name for p in served(settings)])
    except NoDatabase:
        problem = "lambert has not run here yet (check LAMBERT_DB)"
        database = {"ok": False, "path": where, "problem": problem}
    if database["ok"] and settings.database_url:  # the daily state lives there: /readyz too
        unreachable = await postgres_problem(settings.database_url.reveal())
        postgresql = {"ok": unreachable is None, "problem": unreachable}
    ok = database["ok"] and (postgresql is None or postgresql["ok"])
    ok = ok and all(s.connected for s in states)
    if args.json:
        platforms = [
            {
                "platform": s.platform,
                "connected": s.connected,
                "heartbeat_age_seconds": s.age_seconds,
            }
            for s in states
        ]
        print_json(
            {"ok": ok, "database": database, "postgresql": postgresql, "platforms": platforms}
        )
        return 0 if ok else 1
    if database["ok"]:
        lines = [f"{heading('database:')} ok ({where})"]
    else:
        lines = [f"{heading('database:')} none at {where}: {database['problem']}"]
    if postgresql is not None:
        state = "ok" if postgresql["ok"] else f"NOT reachable: {postgresql['problem']}"
        lines.append(f"{heading('postgresql:')} {state}")
    for platform in states:
        name, _, rest = platform.describe().partition(":")
        lines.append(f"{heading(name + ':')}{rest}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if ok else 1


async def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.backup import BackupError, backup_database

    try:
        pages = await backup_database(settings.db_path, args.path, overwrite=args.force)
    except BackupError as exc:
        error(str(exc))
        return 1
    if args.json:
        print_json({"source": str(settings.db_path), "target": str(args.path), "pages": pages})
    else:
        sys.stdout.write(f"backed up {settings.db_path} to {args.path} ({pages} pages)\n")
    return 0
