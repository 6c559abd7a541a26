"""Opening the SQLite file: pragmas, refusal of unusable files, and schema migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.storage.migrations import LATEST_VERSION, MIGRATIONS

BUSY_TIMEOUT_MS = 5000


class DatabaseError(Exception):
    """The database file cannot be used as it is; the message names the file and the fix."""


@asynccontextmanager
async def connect(
    path: Path, *, integrity_check: bool = False
) -> AsyncIterator[aiosqlite.Connection]:
    """Open `path` (creating it), check it, migrate it to the latest schema, and close it after.

    `integrity_check` runs SQLite's quick_check over every page: right for a long-running
    server's start and for `lambert health`, too slow on a big file for every `lambert ask`.
    """
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each write is one explicit
        # transaction instead of whatever the sqlite3 module would open implicitly.
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path}: cannot open the database ({exc}). Check LAMBERT_DB.") from exc
    try:
        await _configure(conn, path, integrity_check)
        await migrate(conn, path)
        yield conn
    finally:
        await conn.close()


async def _configure(conn: aiosqlite.Connection, path: Path, integrity_check: bool) -> None:
    conn.row_factory = aiosqlite.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        # Refuse a newer file before anything below writes to it (WAL mode rewrites the header).
        _refuse_newer(path, await schema_version(conn))
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        check = "PRAGMA quick_check" if integrity_check else "SELECT 'ok'"
        async with conn.execute(check) as cursor:
            row = await cursor.fetchone()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            f"{path}: not a usable SQLite database ({exc}). It was left untouched; restore it "
            "from a backup (`lambert backup`) or point LAMBERT_DB at a new file."
        ) from exc
    if row is None or row[0] != "ok":
        raise DatabaseError(
            f"{path}: failed SQLite's integrity check ({row[0] if row else 'no answer'}). It was "
            "left untouched; restore it from a backup or point LAMBERT_DB at a new file."
        )


def _refuse_newer(path: Path, version: int) -> None:
    if version > LATEST_VERSION:
        raise DatabaseError(
            f"{path}: schema version {version} is newer than this lambert understands "
            f"({LATEST_VERSION}). Upgrade lambert, or point LAMBERT_DB at another file; "
            "the file was not changed."
        )


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Bring the file to LATEST_VERSION; refuse a file written by a newer lambert."""
    current = await schema_version(conn)
    _refuse_newer(path, current)
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if await schema_version(conn) >= version:
                await conn.execute("ROLLBACK")
                continue
            for statement in statements:
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {version}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
