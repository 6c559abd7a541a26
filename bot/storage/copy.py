"""Moving house: an installation's shared state, from its SQLite file into PostgreSQL at once.

The SQLite file is only read (a read-only connection, one snapshot of every table), and
refused while a lambert still posts from it; PostgreSQL is migrated first, then written in
one transaction: a copy that fails leaves the target as it was.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage.connection import BUSY_TIMEOUT_MS, DatabaseError, explained, read_only_uri
from bot.storage.migrations import LATEST_VERSION
from bot.storage.postgres import open_pool, redacted, url_password

# The tables replicas share, in the order they are copied: a new shared table is one entry
# here. Not among them: the quote tables (each process rebuilds its own from the corpus) and
# worker leases (they name live processes, and none of the old installation's moves along).
SHARED_TABLES = (
    "daily_schedules",
    "daily_posts",
    "daily_bag",
    "preview_posts",
    "stats_counts",
    "stats_empty_searches",
    # Slack's installs (many workspaces: each one's bot token) and the one token's workspace.
    # Not the OAuth states: each lasts ten minutes, and an install under way starts again.
    "installs",
    "token_workspaces",
)


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    # lambert writes aware UTC instants; a naive one can only have meant UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# The SQLite file keeps dates, times and instants as ISO text and booleans as 0/1; PostgreSQL's
# columns are native. Keyed by PostgreSQL's information_schema data_type; other types (text,
# integers) go as stored.
CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "boolean": bool,
    "date": date.fromisoformat,
    "time without time zone": time.fromisoformat,
    "timestamp with time zone": _instant,
}


@dataclass(frozen=True)
class Table:
    """One table as read from the SQLite file."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class CopyReport:
    """What `copy_to_postgres` did: rows copied and rows replaced, per table, in copy order."""

    source: Path
    target: str  # redacted: no password
    copied: dict[str, int]
    replaced: dict[str, int]


def read_source(path: Path) -> list[Table]:
    """Every shared table of the SQLite file at `path`, read in one snapshot, never written.

    A table an older lambert had not created yet reads as empty.
    """
    if not path.is_file():
        raise DatabaseError(
            f"{path}: no database here, so nothing to copy. Point --db (or LAMBERT_DB) at the "
            "lambert.db of the installation to move."
        )
    with explained(path, "reading the database to copy"):
        try:
            return _read(path, read_only_uri(path))
        except sqlite3.OperationalError as exc:
            # A WAL file is read through its -wal and -shm files, which SQLite must create
            # when lambert removed them on a clean stop: impossible in a folder this user
            # cannot write (an old installation's volume, mounted to copy from). With no -wal
            # there, the main file holds everything, and reading it as immutable is exact.
            code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
            wal = path.with_name(path.name + "-wal")
            if code not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN) or wal.exists():
                raise
            return _read(path, read_only_uri(path) + "&immutable=1")


def _read(path: Path, uri: str) -> list[Table]:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > LATEST_VERSION:
            raise DatabaseError(
                f"{path}: schema version {version} is newer than this lambert understands "
                f"({LATEST_VERSION}); nothing was copied. Run `lambert db copy` of the "
                "lambert version that wrote it."
            )
        conn.execute("BEGIN")  # one snapshot of every table
        present = {
            name for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        }
        if "daily_schedules" not in present:
            raise DatabaseError(
                f"{path}: not a lambert database (no daily_schedules table); nothing was "
                "copied. Point --db (or LAMBERT_DB) at the installation's lambert.db."
            )
        if "worker_leases" in present:
            _refuse_live_scheduler(path, conn)
        tables = []
        for name in SHARED_TABLES:
            if name not in present:
                tables.append(Table(name, (), []))
                continue
            cursor = conn.execute(f"SELECT * FROM {name}")
            columns = tuple(d[0] for d in cursor.description)
            tables.append(Table(name, columns, [tuple(row) for row in cursor.fetchall()]))
        conn.execute("COMMIT")
        return tables
    finally:
        conn.close()


def _refuse_live_scheduler(path: Path, conn: sqlite3.Connection) -> None:
    """A lambert still posting from the file would post after the snapshot, and the replicas
    would not know: a day posted twice. Its live lease (bot/daily/lease.py) gives it away."""
    live = conn.execute(
        "SELECT holder, (expires_at - julianday('now')) * 86400 FROM worker_leases "
        "WHERE expires_at > julianday('now') ORDER BY expires_at DESC LIMIT 1"
    ).fetchone()
    if live:
        holder, seconds = live
        raise DatabaseError(
            f"{path}: a lambert still runs on this file ({holder} holds a scheduler lease for "
            f"{seconds:.0f} s more); nothing was copied. Stop it, then copy: a stopped one "
            "lets go at once, one that died when its lease ends."
        )


def _converted(source: Path, table: Table, types: dict[str, str]) -> list[tuple[Any, ...]]:
    """The table's rows in PostgreSQL's types (`types`: column -> data_type)."""
    missing = [c for c in table.columns if c not in types]
    if missing:
        raise DatabaseError(
            f"{source}: {table.name}.{missing[0]} has no column in PostgreSQL's table; nothing "
            "was copied. This lambert cannot copy that file: upgrade lambert."
        )
    convert = [CONVERSIONS.get(types[c]) for c in table.columns]
    rows = []
    for row in table.rows:
        try:
            rows.append(
                tuple(
                    value if f is None or value is None else f(value)
                    for f, value in zip(convert, row, strict=True)
                )
            )
        except (TypeError, ValueError) as exc:
            raise DatabaseError(
                f"{source}: a row of {table.name} cannot be read ({exc}); nothing was copied. "
                "Check the file with `lambert health`, or restore a backup."
            ) from None
    return rows


_COLUMN_TYPES = (
    "SELECT table_name, column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = ANY($1::text[])"
)


async def copy_to_postgres(source: Path, url: str, *, replace: bool = False) -> CopyReport:
    """Copy the shared tables of the SQLite file `source` into the PostgreSQL database at `url`.

    The target is migrated first. If any shared table there holds rows, the copy is refused
    unless `replace`, which deletes them in the same transaction as the copy. Errors name the
    target by its redacted URL.
    """
    tables = await asyncio.to_thread(read_source, source)
    where = redacted(url)
    async with open_pool(url, max_size=1) as pool, pool.acquire() as conn:
        try:
            async with conn.transaction():
                # Replicas already pointed here wait until the copy is in, rather than write
                # between the count and the copy.
                await conn.execute(
                    f"LOCK TABLE {', '.join(SHARED_TABLES)} IN SHARE ROW EXCLUSIVE MODE"
                )
                found = {
                    t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in SHARED_TABLES
                }
                held = {t: n for t, n in found.items() if n}
                if held and not replace:
                    listed = ", ".join(f"{t} {n}" for t, n in held.items())
                    raise DatabaseError(
                        f"{where} already holds lambert's state (rows: {listed}); nothing was "
                        "copied. Run again with --force to replace it."
                    )
                types: dict[str, dict[str, str]] = {}
                for record in await conn.fetch(_COLUMN_TYPES, list(SHARED_TABLES)):
                    types.setdefault(record[0], {})[record[1]] = record[2]
                copied = {}
                for table in tables:
                    rows = _converted(source, table, types.get(table.name, {}))
                    if found[table.name]:
                        await conn.execute(f"DELETE FROM {table.name}")
                    if rows:
                        await conn.copy_records_to_table(
                            table.name, records=rows, columns=list(table.columns)
                        )
                    copied[table.name] = len(rows)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            detail = " ".join(str(exc).split())  # one line: asyncpg appends DETAIL on its own
            password = url_password(url)
            if password:
                detail = detail.replace(password, "***")
            raise DatabaseError(
                f"{where}: the copy failed ({detail}); nothing was copied"
            ) from None
    return CopyReport(source, where, copied, held)
