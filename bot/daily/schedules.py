"""Daily schedules in SQLite: which channel wants a quote at what local time, and input checks."""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import aiosqlite

PLATFORMS = ("console", "discord", "slack")
ECHO_CHARS = 40  # user text quoted back in an error is cut here
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
# Entries of the zone database that are not places: they would mean "wherever the server is".
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
_LOCKS: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = weakref.WeakKeyDictionary()
_STORES: weakref.WeakKeyDictionary[aiosqlite.Connection, ScheduleStore] = (
    weakref.WeakKeyDictionary()
)


class ScheduleError(Exception):
    """Input a schedule cannot use; the message says what is wrong and shows what would work."""


def _echo(text: str) -> str:
    cut = text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "\u2026"
    return f"\u201c{cut}\u201d"


def parse_local_time(text: str) -> time:
    """`09:00` or `9:00` (24-hour clock) as a time of day; anything else is a ScheduleError."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ScheduleError(
            f"{_echo(text)} is not a time of day: use the 24-hour HH:MM form, e.g. 09:00 or 17:30."
        )
    return time(int(match[1]), int(match[2]))


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones() - _NOT_PLACES}


def parse_zone(text: str) -> str:
    """The canonical IANA name for `text` (any case), e.g. `europe/berlin` -> `Europe/Berlin`."""
    names = _zone_names()
    name = names.get(text.strip().casefold())
    if name is None:
        close = difflib.get_close_matches(text.strip().casefold(), names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(names[c] for c in close)}?" if close else ""
        raise ScheduleError(
            f"{_echo(text)} is not a time zone: use an IANA name such as Europe/Berlin, "
            f"America/New_York or UTC.{hint}"
        )
    return name


@dataclass(frozen=True, slots=True)
class Schedule:
    """One channel's daily quote. `theme` None means the whole corpus."""

    platform: str
    channel: str
    local_time: time
    tz: str
    theme: str | None
    enabled: bool
    set_by: str
    set_at: datetime
    disabled_reason: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def time_text(self) -> str:
        return self.local_time.strftime("%H:%M")

    @property
    def where(self) -> str:
        """How logs and the CLI name the channel, e.g. `slack/C0GENERAL`."""
        return f"{self.platform}/{self.channel}"


def _schedule(row: aiosqlite.Row) -> Schedule:
    return Schedule(
        platform=row["platform"],
        channel=row["channel"],
        local_time=time.fromisoformat(row["local_time"]),
        tz=row["tz"],
        theme=row["theme"],
        enabled=bool(row["enabled"]),
        set_by=row["set_by"],
        set_at=datetime.fromisoformat(row["set_at"]),
        disabled_reason=row["disabled_reason"],
    )


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
            # SQLite may already have rolled back (e.g. after an I/O error): nothing to undo then.
            with contextlib.suppress(sqlite3.OperationalError):
                await conn.execute("ROLLBACK")
            raise


class ScheduleStore:
    """The schedules of one connection, and `changed`, set whenever one is written here.

    Get it with `ScheduleStore.of(conn)`: the chat commands and the scheduler then share one
    instance, so a schedule set from chat wakes the running loop at once.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.changed = asyncio.Event()

    @classmethod
    def of(cls, conn: aiosqlite.Connection) -> ScheduleStore:
        store = _STORES.get(conn)
        if store is None:
            store = _STORES[conn] = cls(conn)
        return store

    async def save(self, schedule: Schedule) -> None:
        """Create or replace the channel's schedule."""
        async with write_transaction(self.conn):
            await self.conn.execute(
                "INSERT INTO daily_schedules (platform, channel, local_time, tz, theme, enabled, "
                "disabled_reason, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, channel) DO UPDATE SET local_time = excluded.local_time, "
                "tz = excluded.tz, theme = excluded.theme, enabled = excluded.enabled, "
                "disabled_reason = excluded.disabled_reason, set_by = excluded.set_by, "
                "set_at = excluded.set_at",
                (
                    schedule.platform,
                    schedule.channel,
                    schedule.time_text,
                    schedule.tz,
                    schedule.theme,
                    int(schedule.enabled),
                    schedule.disabled_reason,
                    schedule.set_by,
                    schedule.set_at.isoformat(),
                ),
            )
        self.changed.set()

    async def turn_off(self, platform: str, channel: str, by: str, at: datetime) -> bool:
        """Stop the channel's daily quote (kept, so `on` again keeps its shuffle bag)."""
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(
                "UPDATE daily_schedules SET enabled = 0, disabled_reason = NULL, set_by = ?, "
                "set_at = ? WHERE platform = ? AND channel = ?",
                (by, at.isoformat(), platform, channel),
            )
        self.changed.set()
        return cursor.rowcount > 0

    async def get(self, platform: str, channel: str) -> Schedule | None:
        async with self.conn.execute(
            "SELECT * FROM daily_schedules WHERE platform = ? AND channel = ?",
            (platform, channel),
        ) as cursor:
            row = await cursor.fetchone()
        return _schedule(row) if row else None

    async def all(self) -> list[Schedule]:
        """Every schedule, enabled or not, by platform and channel."""
        async with self.conn.execute(
            "SELECT * FROM daily_schedules ORDER BY platform, channel"
        ) as cursor:
            return [_schedule(row) for row in await cursor.fetchall()]
