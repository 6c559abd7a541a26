"""Liveness for operators: the serving process records heartbeats, `lambert health` reads them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

# A heartbeat older than this means the platform (or the whole process) is not connected.
HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS


async def record_heartbeats(
    conn: aiosqlite.Connection, connected: Iterable[str], now: float | None = None
) -> None:
    """Mark each platform in `connected` as alive at `now` (Unix seconds)."""
    stamp = str(time.time() if now is None else now)
    await conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [(f"heartbeat:{platform}", stamp) for platform in connected],
    )


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


async def platform_health(
    conn: aiosqlite.Connection, platforms: Iterable[str], now: float | None = None
) -> list[PlatformHealth]:
    now = time.time() if now is None else now
    found = []
    for platform in platforms:
        async with conn.execute(
            "SELECT value FROM meta WHERE key = ?", (f"heartbeat:{platform}",)
        ) as cur:
            row = await cur.fetchone()
        found.append(PlatformHealth(platform, now - float(row[0]) if row else None))
    return found
