"""Heartbeats that `serve` records and `lambert health` reads, and what "connected" means."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import aiosqlite

from bot.ports import ChatPlatform
from bot.quotes.store import set_meta
from bot.storage.connection import DatabaseError, explained, read_only_uri

# Written only while a platform is connected: an older one means it (or the process) is not.
HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS
# How long `lambert health` waits for PostgreSQL (LAMBERT_DATABASE_URL) to answer.
DATABASE_TIMEOUT_SECONDS = 5.0


@runtime_checkable
class Sharded(Protocol):
    """A platform with several connections (Discord shards): connected while every shard is."""

    def shards(self) -> Mapping[int, bool]: ...


def shard_states(platform: ChatPlatform) -> Mapping[int, bool]:
    return platform.shards() if isinstance(platform, Sharded) else {}


def is_connected(platform: ChatPlatform) -> bool:
    """The one meaning of "connected" (heartbeats, /readyz, the gauge): on every shard."""
    return platform.connected and all(shard_states(platform).values())


async def record_heartbeats(
    conn: aiosqlite.Connection, connected: Iterable[str], now: float | None = None
) -> None:
    stamp = str(time.time() if now is None else now)
    await set_meta(conn, {f"heartbeat:{platform}": stamp for platform in connected})


@dataclass(frozen=True, slots=True)
class PlatformHealth:
    platform: str
    age_seconds: float | None  # None: never connected

    @property
    def connected(self) -> bool:
        return self.age_seconds is not None and self.age_seconds <= STALE_AFTER_SECONDS

    def describe(self) -> str:
        if self.age_seconds is None:
            return f"{self.platform}: never connected"
        state = "connected" if self.connected else "NOT connected"
        return f"{self.platform}: {state} (last heartbeat {self.age_seconds:.0f} s ago)"


async def read_health(
    path: Path, platforms: Iterable[str], now: float | None = None
) -> list[PlatformHealth]:
    """quick_check the file and read each platform's heartbeat, read-only (health never writes
    a database). FileNotFoundError: no file; DatabaseError (one line): it cannot be used."""
    if not await asyncio.to_thread(path.is_file):
        raise FileNotFoundError(str(path))
    with explained(path, "checking the database"):
        async with aiosqlite.connect(read_only_uri(path), uri=True) as conn:
            check = [row[0] for row in await conn.execute_fetchall("PRAGMA quick_check")]
            if check[:1] != ["ok"]:
                detail = " ".join(str(check[0] if check else "no answer").split())
                raise DatabaseError(f"{path}: failed SQLite's integrity check ({detail})")
            sql = "SELECT key, value FROM meta WHERE key LIKE 'heartbeat:%'"
            try:
                rows = await conn.execute_fetchall(sql)
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                rows = []  # never served yet
    beats = {key.removeprefix("heartbeat:"): float(value) for key, value in rows}
    now = time.time() if now is None else now  # read after the beats: an age is never negative
    # ... unless the wall clock stepped back since a beat (NTP): that beat is as new as can be.
    return [PlatformHealth(p, max(0.0, now - beats[p]) if p in beats else None) for p in platforms]


async def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL at `url` cannot answer `SELECT 1` in time (one line, no password), or None."""
    import psycopg  # only when a database URL is set

    from bot.storage.urls import redacted

    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            async with await psycopg.AsyncConnection.connect(url, prepare_threshold=None) as conn:
                await conn.execute("SELECT 1")
    except TimeoutError:
        return f"{redacted(url)}: no answer within {DATABASE_TIMEOUT_SECONDS:g} s"
    except (OSError, psycopg.Error) as exc:
        return f"{redacted(url)}: {type(exc).__name__}"
    return None
