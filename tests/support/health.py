"""Heartbeats and readiness as the health, probe and metrics tests drive them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.ports import DailyPoster
from bot.serving import serve as serving
from tests.support.serving import until

BEAT = 0.02  # seconds between heartbeats in these tests (30 in production)

PATIENCE = 20.0  # seconds; a lost connection is noticed and retried well within it


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def ready(port: int) -> tuple[int, dict[str, Any]]:
    status, body = await get(port, "/readyz")
    return status, json.loads(body)


SLOW = serving.Backoff(first=0.05, longest=0.2, jitter=lambda: 0.0)


def heartbeat(db_path: Path, platform: str) -> float | None:
    """The platform's last heartbeat (None before serve has written one), read read-only."""
    try:
        conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
    except sqlite3.OperationalError:  # no file yet
        return None
    try:
        row = conn.execute(
            "SELECT value FROM meta WHERE key = ?", (f"heartbeat:{platform}",)
        ).fetchone()
    except sqlite3.OperationalError:  # no meta table yet
        return None
    finally:
        conn.close()
    return float(row[0]) if row else None


def age(db_path: Path, platform: str, seconds: float) -> None:
    """Make the platform's last heartbeat `seconds` older, as if that much time had passed."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.execute(
                "UPDATE meta SET value = CAST(value AS REAL) - ? WHERE key = ?",
                (seconds, f"heartbeat:{platform}"),
            )
    finally:
        conn.close()


async def beats_of(db_path: Path, platform: str, count: int, task: asyncio.Task[int]) -> None:
    """Wait until `platform`'s heartbeat has been written `count` more times."""
    seen = [heartbeat(db_path, platform)]

    def advanced() -> bool:
        now = heartbeat(db_path, platform)
        if now != seen[-1]:
            seen.append(now)
        return len(seen) > count

    await until(advanced, f"{count} heartbeats of {platform}", task)


async def until_ready_is(
    port: int, status: int, task: asyncio.Task[int], patience: float = PATIENCE
) -> dict[str, Any]:
    """Poll /readyz until it answers `status`; its body then."""
    seen: list[tuple[int, dict[str, Any]]] = []

    async def poll() -> None:
        while not seen or seen[-1][0] != status:
            if task.done():
                raise AssertionError(f"serve stopped ({task.result()}) before /readyz {status}")
            with contextlib.suppress(aiohttp.ClientConnectionError):  # still starting
                seen.append(await ready(port))
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(poll(), patience)
    except TimeoutError:
        raise AssertionError(f"/readyz never answered {status}; last: {seen[-1:]}") from None
    return seen[-1][1]


@dataclass
class Platform:
    """A ChatPlatform as far as readiness looks: a name, `connected`, maybe shards."""

    name: str
    connected: bool = True

    async def start(self) -> None: ...
    async def wait_lost(self) -> None: ...
    async def close(self) -> None: ...

    def poster(self) -> DailyPoster:
        raise NotImplementedError


@dataclass
class ShardedPlatform(Platform):
    shard_states: dict[int, bool] = field(default_factory=dict)

    def shards(self) -> Mapping[int, bool]:
        return self.shard_states
