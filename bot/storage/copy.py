"""`lambert db copy`: an installation's shared state, from its SQLite file into PostgreSQL.

The file is read in one snapshot, never written; the target is written in one transaction. Both
are refused while a lambert runs on them. The tables are the metadata's, walked in dependency
order, so a new table is copied with no new code here.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.storage.connection import LATEST_VERSION, DatabaseError, explained, primary_code, read_only
from bot.storage.engine import QueryError, open_engine, sync_sqlite
from bot.storage.schema import db_now, metadata, seconds_until, shard_leases, worker_leases
from bot.storage.urls import redacted

# Not copied: leases name live processes (none of the old installation's moves along).
SHARED = tuple(t for t in metadata.sorted_tables if t not in (worker_leases, shard_leases))
SHARED_TABLES = tuple(t.name for t in SHARED)
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class CopyReport:
    """What `copy_to_postgres` did: rows copied and rows replaced, per table, in copy order."""

    source: Path
    target: str  # redacted: no password
    copied: dict[str, int]
    replaced: dict[str, int]


def read_source(path: Path) -> list[Rows]:
    """Every shared table's rows (SHARED's order) in the SQLite file at `path`, as Python
    values, read in one snapshot, never written. A table an older lambert had not created yet
    reads as empty."""
    if not path.is_file():
        raise DatabaseError(
            f"{path}: no database here, so nothing to copy. Point --db (or LAMBERT_DB) at the "
            "lambert.db of the installation to move."
        )
    with explained(path, "reading the database to copy"):
        try:
            return _read(path)
        except sqlite3.OperationalError as exc:
            # A WAL file is read through its -wal and -shm files, which SQLite must create
            # when lambert removed them on a clean stop: impossible in a folder this user
            # cannot write (an old installation's volume, mounted to copy from). With no -wal
            # there, the main file holds everything, and reading it as immutable is exact.
            wal = path.with_name(path.name + "-wal")
            code = primary_code(exc)
            if code not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN) or wal.exists():
                raise
            return _read(path, immutable=True)


def _read(path: Path, immutable: bool = False) -> list[Rows]:
    with read_only(path, immutable) as raw, sync_sqlite(raw).connect() as conn:
        version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        if version > LATEST_VERSION:
            raise DatabaseError(
                f"{path}: schema version {version} is newer than this lambert understands "
                f"({LATEST_VERSION}); nothing was copied. Run `lambert db copy` of the "
                "lambert version that wrote it."
            )
        conn.exec_driver_sql("BEGIN")  # one snapshot of every table
        found = sa.inspect(conn)
        present = set(found.get_table_names())
        if "daily_schedules" not in present:
            raise DatabaseError(
                f"{path}: not a lambert database (no daily_schedules table); nothing was "
                "copied. Point --db (or LAMBERT_DB) at the installation's lambert.db."
            )
        if "worker_leases" in present and (live := conn.execute(_live(worker_leases)).first()):
            # A lambert still posting from the file would post after the snapshot, and the
            # replicas would not know: a day posted twice.
            raise DatabaseError(
                f"{path}: a lambert still runs on this file ({live[0]} holds a scheduler lease "
                f"for {live[1]:.0f} s more); nothing was copied. Stop it, then copy: a stopped "
                "one lets go at once, one that died when its lease ends."
            )
        tables: list[Rows] = []
        for table in SHARED:
            if table.name not in present:
                tables.append([])
                continue
            names = [column["name"] for column in found.get_columns(table.name)]
            if unknown := [name for name in names if name not in table.c]:
                raise DatabaseError(
                    f"{path}: {table.name}.{unknown[0]} is not a column this lambert knows; "
                    "nothing was copied. This lambert cannot copy that file: upgrade lambert."
                )
            try:  # the columns' own types read the stored forms (ISO text, 0/1)
                read = conn.execute(sa.select(*(table.c[name] for name in names)))
                tables.append([dict(row) for row in read.mappings()])
            except (TypeError, ValueError) as exc:
                raise DatabaseError(
                    f"{path}: a row of {table.name} cannot be read ({exc}); nothing was "
                    "copied. Check the file with `lambert health`, or restore a backup."
                ) from None
        return tables


def _live(table: sa.Table) -> sa.Select[Any]:
    """The holder of `table`'s longest live lease and its seconds left, by the database's clock."""
    return (
        sa.select(table.c.holder, seconds_until(table.c.expires_at))
        .where(table.c.expires_at > db_now())
        .order_by(table.c.expires_at.desc())
        .limit(1)
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
        for lease in (worker_leases, shard_leases):
            # A lambert running here would have state replaced under it (a day posted twice):
            # refused even with --force (issue 19).
            if live := (await conn.execute(_live(lease))).first():
                raise DatabaseError(
                    f"{where}: a lambert runs on this database ({live[0]} holds a lease for "
                    f"{live[1]:.0f} s more); nothing was copied, even with --force. Stop every "
                    "lambert using it, then copy."
                )
        count = sa.select(sa.func.count())
        found = {t.name: (await conn.execute(count.select_from(t))).scalar_one() for t in SHARED}
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
        for table, rows in zip(SHARED, tables, strict=True):
            try:
                if rows:
                    await conn.execute(table.insert(), rows)
            except QueryError as exc:
                raise DatabaseError(
                    f"{where}: the copy failed ({exc.detail}); nothing was copied"
                ) from None
    copied = {table.name: len(rows) for table, rows in zip(SHARED, tables, strict=True)}
    return CopyReport(source, where, copied, held)
