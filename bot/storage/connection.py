"""The quote tables' SQLite file: opened with its pragmas, checked, migrated, errors explained."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path

import aiosqlite

# How long a write waits for another process's lock before giving up (SQLite's busy_timeout);
# read at each call, so a test may lower it.
BUSY_TIMEOUT_MS = 5000

# The quote tables, created with their version in one transaction (a crash leaves all or
# none). Never edit a statement that has shipped: add a version.
QUOTE_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE themes (
                slug TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                position INTEGER NOT NULL,
                quote_count INTEGER NOT NULL
            )""",
    """CREATE TABLE theme_aliases (
                alias TEXT PRIMARY KEY,
                slug TEXT NOT NULL REFERENCES themes(slug) ON DELETE CASCADE
            )""",
    # position / theme_position are dense 0..n-1, so a random quote is one index lookup.
    """CREATE TABLE quotes (
                rowid INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                theme TEXT NOT NULL REFERENCES themes(slug),
                topic TEXT NOT NULL,
                source TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('quote', 'paraphrase')),
                text TEXT NOT NULL,
                position INTEGER NOT NULL UNIQUE,
                theme_position INTEGER NOT NULL,
                UNIQUE (theme, theme_position)
            )""",
    # Contentless: the text lives once, in `quotes`; the index only maps words to rowids.
    """CREATE VIRTUAL TABLE quotes_fts USING fts5(
                topic, theme_title, text,
                content='', tokenize='porter unicode61 remove_diacritics 2'
            )""",
    # Unstemmed words of the corpus, for "did you mean" on typos.
    """CREATE TABLE vocabulary (
                word TEXT PRIMARY KEY,
                first TEXT NOT NULL,
                length INTEGER NOT NULL
            ) WITHOUT ROWID""",
    "CREATE INDEX vocabulary_by_shape ON vocabulary (first, length)",
)
# PRAGMA user_version. Versions 2-10 created the shared state's tables in this file; they are
# Alembic's now (revision 0001 holds those steps). A file made since skips them.
LATEST_VERSION = 10

_RESTORE = "restore it from a backup or point LAMBERT_DB at a new file"
_DAMAGED = f"not a usable SQLite database ({{exc}}). It was left untouched; {_RESTORE}."
# What each of SQLite's primary error codes means for the file, and the fix ({exc}: SQLite's
# words, {operation}: what was under way, {seconds}: the busy timeout).
_WHY = {
    sqlite3.SQLITE_BUSY: "{operation} could not get the database lock: another process held it "
    "for more than {seconds:g} s. Nothing was changed; try again once it is done (another "
    "lambert, a backup or an open sqlite3 shell may be writing).",
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
_WHY[sqlite3.SQLITE_LOCKED] = _WHY[sqlite3.SQLITE_BUSY]


class DatabaseError(Exception):
    """The database cannot be used as it is; the message names it and the fix."""


def is_database_error(exc: BaseException) -> bool:  # rather than a bug
    return isinstance(exc, DatabaseError | sqlite3.Error)


def primary_code(exc: sqlite3.Error) -> int:  # of an extended code too; 0 when none
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def explain(exc: sqlite3.Error, path: Path, operation: str) -> str:
    """One line: what went wrong with `path` while `operation` ran, and what to do. Only a
    damaged file is worth restoring from a backup: a lock, a read-only file or a full disk
    leave the data as it was, and a restore would lose what was written since."""
    code = primary_code(exc)
    # access() also says no to root for an immutable folder (chattr +i), where modes do not.
    folder = path.parent
    if code == sqlite3.SQLITE_CANTOPEN and folder.is_dir() and not os.access(folder, os.W_OK):
        return (
            f"{path}: the folder {folder} is read-only, so {operation} could not create "
            "the database or its -wal and -shm files there. Nothing was changed; give lambert "
            "write access to that folder, or point LAMBERT_DB at a writable path."
        )
    if code in _WHY:
        seconds = BUSY_TIMEOUT_MS / 1000
        return f"{path}: " + _WHY[code].format(exc=exc, operation=operation, seconds=seconds)
    name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
    return f"{path}: {operation} failed ({name}: {exc}). Check LAMBERT_DB and the disk."


@contextmanager
def explained(path: Path, operation: str) -> Iterator[None]:
    """Turn any SQLite error inside into a DatabaseError saying what happened and what to do."""
    try:
        yield
    except sqlite3.Error as exc:
        raise DatabaseError(explain(exc, path, operation)) from exc


@asynccontextmanager
async def connect(
    path: Path, *, integrity_check: bool = False
) -> AsyncIterator[aiosqlite.Connection]:
    """Open `path` (creating it), check it, migrate it, and close it after. A refused file is
    never written, not even by the WAL checkpoint of a read-write connection's close.
    `integrity_check`: SQLite's quick_check over every page, before anything writes, for a
    server's start and `lambert health` (too slow on a big file for every `lambert ask`)."""
    if str(path) != ":memory:":
        _make_folder(path)
        await asyncio.to_thread(_inspect, path, integrity_check)
        # A new file is created 0600 (whatever the umask) before SQLite opens it: it holds
        # workspaces' bot tokens, and SQLite gives its -wal and -shm files its mode. An
        # existing file keeps its mode (`lambert health` warns when others can read it).
        with contextlib.suppress(OSError):  # it exists, or SQLite will say what is wrong
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with explained(path, "opening the database"):
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each write is one explicit
        # transaction instead of whatever the sqlite3 module would open implicitly.
        conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        with explained(path, "opening the database"):
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA foreign_keys = ON")
            # Checked again on this connection (another process may have upgraded it
            # meanwhile) before the WAL pragma rewrites the header.
            _refuse_newer(path, await schema_version(conn))
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
        with explained(path, "migrating the schema"):
            await migrate(conn, path)
        yield conn
    finally:
        await conn.close()


def _make_folder(path: Path) -> None:
    try:  # a folder lambert creates is its own (0700); one that exists keeps its mode
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        what = "is a file, not a folder" if blocker.exists() else f"cannot be created ({exc})"
        raise DatabaseError(
            f"{path}: cannot hold the database: {blocker} {what}. Point LAMBERT_DB (or --db) "
            "at a path inside a folder."
        ) from None


def read_only_uri(path: Path) -> str:  # as_uri() escapes any `#`, `?`, `%` or space
    return f"{path.resolve().as_uri()}?mode=ro"


def read_only(path: Path, immutable: bool = False) -> closing[sqlite3.Connection]:
    uri = read_only_uri(path) + ("&immutable=1" if immutable else "")
    return closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000))


def _inspect(path: Path, integrity_check: bool) -> None:
    """Refuse a newer or damaged existing file, looking through a read-only connection: it
    never checkpoints the WAL into the file when it closes, so a refused file stays as it was."""
    if not path.exists():
        return  # created by the read-write connection
    with explained(path, "checking the database"), read_only(path) as conn:
        version = _refuse_newer(path, conn.execute("PRAGMA user_version").fetchone()[0])
        # A migration writes too: check the pages before it does.
        if integrity_check or version < LATEST_VERSION:
            (result,) = conn.execute("PRAGMA quick_check").fetchone()
            if result != "ok":
                detail = " ".join(str(result).split())  # SQLite's report spans lines
                raise DatabaseError(
                    f"{path}: failed SQLite's integrity check ({detail}). It was left "
                    f"untouched; {_RESTORE}."
                )


def stored_value(path: Path, key: str) -> str | None:
    """The `meta` value for `key` in an existing file, read without writing to it; None when
    there is none or the file cannot be read (then `connect` says why)."""
    if str(path) == ":memory:" or not path.is_file():
        return None
    try:
        with read_only(path) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _refuse_newer(path: Path, version: int) -> int:
    if version > LATEST_VERSION:
        raise DatabaseError(
            f"{path}: schema version {version} is newer than this lambert understands "
            f"({LATEST_VERSION}). Upgrade lambert, or point LAMBERT_DB at another file; "
            "the file was not changed."
        )
    return version


async def schema_version(conn: aiosqlite.Connection) -> int:
    (row,) = await conn.execute_fetchall("PRAGMA user_version")
    return int(row[0])


async def rollback(conn: aiosqlite.Connection) -> None:
    """Undo the open transaction, if SQLite has not (it does after some I/O errors). Called
    while another error is on its way up: a failed ROLLBACK must never replace it."""
    with contextlib.suppress(sqlite3.Error):
        await conn.execute("ROLLBACK")


async def migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Bring the file to LATEST_VERSION; refuse a file written by a newer lambert."""
    if _refuse_newer(path, await schema_version(conn)) == LATEST_VERSION:
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
