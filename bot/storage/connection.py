"""Opening the SQLite file: pragmas, refusal of unusable files, migrations, errors explained."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path

import aiosqlite

from bot.storage.migrations import LATEST_VERSION, QUOTE_TABLES

# How long a write waits for another process's lock before giving up (SQLite's busy_timeout).
BUSY_TIMEOUT_MS = 5000

_RESTORE = "restore it from a backup or point LAMBERT_DB at a new file"
_DAMAGED = f"not a usable SQLite database ({{exc}}). It was left untouched; {_RESTORE}."
# What each of SQLite's primary error codes means for the file, and the fix ({exc}: SQLite's
# words, {operation}: what was under way).
_WHY = {
    sqlite3.SQLITE_READONLY: "the database is read-only ({exc}), so {operation} could not "
    "write. Nothing was changed; give lambert write access to the file and its folder (SQLite "
    "writes -wal and -shm files beside it), or point LAMBERT_DB at a writable path.",
    sqlite3.SQLITE_FULL: "the disk is full (SQLITE_FULL), so {operation} could not write. "
    "Nothing was changed; free space on that disk, or point LAMBERT_DB at another disk.",
    sqlite3.SQLITE_CORRUPT: _DAMAGED,
    sqlite3.SQLITE_NOTADB: _DAMAGED,
    sqlite3.SQLITE_CANTOPEN: "cannot open the database ({exc}). Check that the path is a file "
    "in a folder lambert may write to, or point LAMBERT_DB at another path.",
}


class DatabaseError(Exception):
    """The database file cannot be used as it is; the message names the file and the fix."""


def is_database_error(exc: BaseException) -> bool:
    """Whether `exc` is the database's (a DatabaseError, or SQLite's own error): the database
    went away or refused, rather than a bug."""
    return isinstance(exc, DatabaseError | sqlite3.Error)


def explain(exc: sqlite3.Error, path: Path, operation: str, timeout_ms: int | None = None) -> str:
    """One line saying what went wrong with `path` while `operation` ran, and what to do.

    Only a damaged file is worth restoring from a backup: a lock, a read-only file or a full
    disk leave the data as it was, and a restore would lose what was written since.
    """
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF  # the primary code of an extended one
    name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        waited = (BUSY_TIMEOUT_MS if timeout_ms is None else timeout_ms) / 1000
        return (
            f"{path}: {operation} could not get the database lock: another process held it "
            f"for more than {waited:g} s. Nothing was changed; try again once it is done "
            "(another lambert, a backup or an open sqlite3 shell may be writing)."
        )
    if code == sqlite3.SQLITE_CANTOPEN and _read_only_folder(path.parent):
        return (
            f"{path}: the folder {path.parent} is read-only, so {operation} could not create "
            "the database or its -wal and -shm files there. Nothing was changed; give lambert "
            "write access to that folder, or point LAMBERT_DB at a writable path."
        )
    if code in _WHY:
        return f"{path}: " + _WHY[code].format(exc=exc, operation=operation)
    return f"{path}: {operation} failed ({name}: {exc}). Check LAMBERT_DB and the disk."


def _read_only_folder(folder: Path) -> bool:
    # access() also says no to root for an immutable folder (chattr +i), where modes do not.
    return folder.is_dir() and not os.access(folder, os.W_OK)


@contextmanager
def explained(path: Path, operation: str, timeout_ms: int | None = None) -> Iterator[None]:
    """Turn any SQLite error inside into a DatabaseError saying what happened and what to do."""
    try:
        yield
    except sqlite3.Error as exc:
        raise DatabaseError(explain(exc, path, operation, timeout_ms)) from exc


@asynccontextmanager
async def connect(
    path: Path, *, integrity_check: bool = False, busy_timeout_ms: int | None = None
) -> AsyncIterator[aiosqlite.Connection]:
    """Open `path` (creating it), check it, migrate it to the latest schema, and close it after.

    `integrity_check` runs SQLite's quick_check over every page: right before anything writes
    (a corpus load, a migration), for a long-running server's start and for `lambert health`,
    too slow on a big file for every `lambert ask`. A file that is refused is never written,
    not even by the WAL checkpoint a read-write connection does when it closes.
    """
    timeout = BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
    if str(path) != ":memory:":
        _make_folder(path)
        await asyncio.to_thread(_inspect, path, integrity_check, timeout)
        _create_private(path)
    with explained(path, "opening the database", timeout):
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each write is one explicit
        # transaction instead of whatever the sqlite3 module would open implicitly.
        conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        with explained(path, "opening the database", timeout):
            await _configure(conn, path, timeout)
        with explained(path, "migrating the schema", timeout):
            await migrate(conn, path)
        yield conn
    finally:
        await conn.close()


def _create_private(path: Path) -> None:
    """Create a new database file 0600 (whatever the umask), before SQLite opens it.

    The file holds workspaces' bot tokens; SQLite gives its -wal and -shm files the mode of
    the database file, so they are private too. An existing file keeps its mode (`lambert
    health` warns when others can read it).
    """
    with contextlib.suppress(OSError):  # it exists, or SQLite will say what is wrong
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _make_folder(path: Path) -> None:
    try:
        # A folder lambert creates is its own (0700); one that exists keeps its mode.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        what = "is a file, not a folder" if blocker.exists() else f"cannot be created ({exc})"
        raise DatabaseError(
            f"{path}: cannot hold the database: {blocker} {what}. Point LAMBERT_DB (or --db) "
            "at a path inside a folder."
        ) from None


def read_only_uri(path: Path) -> str:
    """A URI opening `path` read-only; any `#`, `?`, `%` or space in it is escaped."""
    return f"{path.resolve().as_uri()}?mode=ro"


def read_only(path: Path, timeout_ms: int | None = None) -> closing[sqlite3.Connection]:
    """A read-only connection to `path`, closed on leaving the `with`."""
    timeout = (BUSY_TIMEOUT_MS if timeout_ms is None else timeout_ms) / 1000
    return closing(sqlite3.connect(read_only_uri(path), uri=True, timeout=timeout))


def _inspect(path: Path, integrity_check: bool, timeout_ms: int) -> None:
    """Refuse a newer or damaged existing file, looking at it through a read-only connection.

    A read-only connection never checkpoints the WAL into the file when it closes, so "the file
    was not changed" stays true of a refused file.
    """
    if not path.exists():
        return  # created by the read-write connection
    with explained(path, "checking the database", timeout_ms), read_only(path, timeout_ms) as conn:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        _refuse_newer(path, int(version))
        # A migration writes too: check the pages before it does.
        if integrity_check or version < LATEST_VERSION:
            (result,) = conn.execute("PRAGMA quick_check").fetchone()
            if result != "ok":
                detail = " ".join(str(result).split())  # SQLite's report spans lines
                raise DatabaseError(
                    f"{path}: failed SQLite's integrity check ({detail}). It was left "
                    f"untouched; {_RESTORE}."
                )


def stored_value(path: Path, key: str, timeout_ms: int | None = None) -> str | None:
    """The `meta` value for `key` in an existing file, read without writing to it.

    None when there is no file, no meta table or no such key, or the file cannot be read (then
    `connect` says why).
    """
    if str(path) == ":memory:" or not path.is_file():
        return None
    try:
        with read_only(path, timeout_ms) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


async def _configure(conn: aiosqlite.Connection, path: Path, timeout_ms: int) -> None:
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
    await conn.execute("PRAGMA foreign_keys = ON")
    # Checked again on this connection: another process may have upgraded it meanwhile, and
    # the WAL pragma below rewrites the header.
    _refuse_newer(path, await schema_version(conn))
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")


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


async def rollback(conn: aiosqlite.Connection) -> None:
    """Undo the open transaction, if SQLite has not already (it does after some I/O errors).

    Called while another error is on its way up: a failed ROLLBACK must never replace it.
    """
    with contextlib.suppress(sqlite3.Error):
        await conn.execute("ROLLBACK")


async def migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Bring the file to LATEST_VERSION; refuse a file written by a newer lambert."""
    current = await schema_version(conn)
    _refuse_newer(path, current)
    if current == LATEST_VERSION:
        return
    await conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read inside the write lock: another process may have migrated meanwhile.
        if await schema_version(conn) < 1:
            for statement in QUOTE_TABLES:
                await conn.execute(statement)
        await conn.execute(f"PRAGMA user_version = {LATEST_VERSION}")
        await conn.execute("COMMIT")
    except BaseException:
        await rollback(conn)
        raise
