"""One write transaction at a time on a shared aiosqlite connection."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite

_LOCKS: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def write_transaction(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """One BEGIN IMMEDIATE ... COMMIT at a time on `conn`, rolled back on any exception.

    Coroutines share the connection: two interleaved BEGINs would fail, and one coroutine's
    statements would land in another's transaction. IMMEDIATE takes SQLite's write lock up
    front, so a read-then-insert (a claim) cannot race another process.
    """
    lock = _LOCKS.setdefault(conn, asyncio.Lock())
    async with lock:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            await conn.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back (e.g. after an I/O error): nothing to undo
            # then, and a failed ROLLBACK must never hide the error that brought us here.
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
