"""Moving house: an installation's shared state, from its SQLite file into PostgreSQL at once.

The SQLite file is only read (a read-only connection, one snapshot of every table), and
refused while a lambert still posts from it; the target is migrated first, refused while a
lambert holds a lease there, then written in one transaction: a copy that fails leaves the
target as it was. The tables are the state's metadata (bot/storage/schema.py), walked in
dependency order, so a new table is copied with no new code here.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.connection import BUSY_TIMEOUT_MS, DatabaseError, explained, read_only_uri
from bot.storage.engine import QueryError, open_engine
from bot.storage.migrations import LATEST_VERSION
from bot.storage.schema import metadata, shard_leases, worker_leases
from bot.storage.types import db_now, seconds_until
from bot.storage.urls import redacted

# Not copied: leases name live processes (none of the old installation's moves along). Every
# other table is.
NOT_COPIED = frozenset({"worker_leases", "shard_leases"})
SHARED = tuple(t for t in metadata.sorted_tables if t.name not in NOT_COPIED)
SHARED_TABLES = tuple(t.name for t in SHARED)
_SQLITE = sqlite_dialect.dialect()


class Table(NamedTuple):
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
    with closing(conn):
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
            rows = conn.execute(f"SELECT * FROM {name}") if name in present else None
            columns = tuple(d[0] for d in rows.description) if rows else ()
            tables.append(Table(name, columns, rows.fetchall() if rows else []))
        conn.execute("COMMIT")
        return tables


def _refuse_live_scheduler(path: Path, conn: sqlite3.Connection) -> None:
    """A lambert still posting from the file would post after the snapshot, and the replicas
    would not know: a day posted twice. Its live lease (bot/coordination/lease.py) gives it away."""
    sql = _live_lease(worker_leases).compile(
        dialect=_SQLITE, compile_kwargs={"literal_binds": True}
    )
    live = conn.execute(str(sql)).fetchone()
    if live:
        holder, seconds = live
        raise DatabaseError(
            f"{path}: a lambert still runs on this file ({holder} holds a scheduler lease for "
            f"{seconds:.0f} s more); nothing was copied. Stop it, then copy: a stopped one "
            "lets go at once, one that died when its lease ends."
        )


def _live_lease(table: sa.Table) -> sa.Select[Any]:
    """The holder of `table`'s longest live lease and its seconds left, by the database's clock."""
    return (
        sa.select(table.c.holder, seconds_until(table.c.expires_at))
        .where(table.c.expires_at > db_now())
        .order_by(table.c.expires_at.desc())
        .limit(1)
    )


def _values(source: Path, table: Table) -> list[dict[str, Any]]:
    """The table's rows as Python values, read from the SQLite file's stored forms by the
    columns' own types (ISO text to dates and instants, 0/1 to booleans)."""
    columns = SHARED[SHARED_TABLES.index(table.name)].c
    missing = [c for c in table.columns if c not in columns]
    if missing:
        raise DatabaseError(
            f"{source}: {table.name}.{missing[0]} is not a column this lambert knows; nothing "
            "was copied. This lambert cannot copy that file: upgrade lambert."
        )
    readers = [columns[c].type.result_processor(_SQLITE, None) for c in table.columns]
    rows = []
    for row in table.rows:
        try:
            rows.append(
                {
                    name: value if read is None or value is None else read(value)
                    for name, read, value in zip(table.columns, readers, row, strict=True)
                }
            )
        except (TypeError, ValueError) as exc:
            raise DatabaseError(
                f"{source}: a row of {table.name} cannot be read ({exc}); nothing was copied. "
                "Check the file with `lambert health`, or restore a backup."
            ) from None
    return rows


async def _refuse_live_target(conn: AsyncConnection, where: str) -> None:
    """A lambert running on the target holds a lease there: the copy would replace state under
    it (a day posted twice), so it is refused even with --force (issue 19)."""
    for table in (worker_leases, shard_leases):
        found = (await conn.execute(_live_lease(table))).first()
        if found:
            holder, seconds = found
            raise DatabaseError(
                f"{where}: a lambert runs on this database ({holder} holds a lease for "
                f"{seconds:.0f} s more); nothing was copied, even with --force. Stop every "
                "lambert using it, then copy."
            )


async def copy_to_postgres(source: Path, url: str, *, replace: bool = False) -> CopyReport:
    """Copy the shared tables of the SQLite file `source` into the PostgreSQL database at `url`
    (migrated first). A target whose tables hold rows is refused unless `replace`, which
    deletes them in the copy's transaction; errors name it by its redacted URL."""

    tables = await asyncio.to_thread(read_source, source)
    where = redacted(url)
    async with open_engine(source, url) as engine, engine.begin() as conn:
        # Replicas already pointed here wait until the copy is in, rather than write between
        # the count and the copy.
        await conn.execute(
            sa.text(f"LOCK TABLE {', '.join(SHARED_TABLES)} IN SHARE ROW EXCLUSIVE MODE")
        )
        await _refuse_live_target(conn, where)
        found = {
            t.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            )
            for t in SHARED
        }
        held = {t: n for t, n in found.items() if n}
        if held and not replace:
            listed = ", ".join(f"{t} {n}" for t, n in held.items())
            raise DatabaseError(
                f"{where} already holds lambert's state (rows: {listed}); nothing was "
                "copied. Run again with --force to replace it."
            )
        for table in reversed(SHARED):  # dependants first
            if found[table.name]:
                await conn.execute(table.delete())
        copied = {}
        for table, read in zip(SHARED, tables, strict=True):
            rows = _values(source, read)
            try:
                if rows:
                    await conn.execute(table.insert(), rows)
            except QueryError as exc:
                raise DatabaseError(
                    f"{where}: the copy failed ({exc.detail}); nothing was copied"
                ) from None
            copied[table.name] = len(rows)
    return CopyReport(source, where, copied, held)
