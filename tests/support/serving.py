"""Serving helpers shared by the serve, start-up, health, probe and metrics tests."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings, load_settings
from bot.daily.schedules import Schedule
from bot.runtime import open_core
from tests.fakes.slack_platform import APP_TOKEN, BOT_TOKEN
from tests.support.paths import CORPUS

ZONES = ("UTC", "Asia/Tokyo", "America/New_York")  # never all three just past midnight

PATIENCE = 10.0  # seconds; Discord's start alone waits 2 s for guilds (guild_ready_timeout)


def minutes_into_today(instant: datetime, zone: str) -> int:
    local = instant.astimezone(ZoneInfo(zone))
    return local.hour * 60 + local.minute


async def due_now(settings: Settings, *channels: tuple[str, str]) -> None:
    """Schedules whose time passed five minutes ago today, set an hour before: the first
    scheduler pass posts them (on time, within the catch-up window)."""
    now = datetime.now(UTC)
    # A zone where today is at least ten minutes old, so "five minutes ago" is still today.
    zone = next(z for z in ZONES if minutes_into_today(now, z) >= 10)
    local = (now - timedelta(minutes=5)).astimezone(ZoneInfo(zone)).time().replace(second=0)
    async with open_core(settings) as core:
        store = core.daily.store
        for platform, channel in channels:
            set_at = now - timedelta(hours=1)
            await store.save_schedules(
                [Schedule(platform, channel, local, zone, None, True, "test", set_at)]
            )


def daily_rows(db_path: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT platform, channel, status, message_id FROM daily_posts")
        return {(p, c): (s, m) for p, c, s, m in rows}
    finally:
        conn.close()


async def until(predicate: Callable[[], object], what: str, task: asyncio.Task[int]) -> None:
    """Wait for `predicate()` while serve runs; fail at once if serve stops instead."""
    async with asyncio.timeout(PATIENCE):
        while not predicate():
            if task.done():
                raise AssertionError(f"serve stopped ({task.result()}) before {what}")
            await asyncio.sleep(0.005)


def settings_for(db_path: Path, *, discord: bool = True, slack: bool = True) -> Settings:
    env: dict[str, str] = {}
    if discord:
        env["DISCORD_TOKEN"] = "fake-token"
    if slack:
        env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    return load_settings(env, db_path=db_path, corpus_path=CORPUS)
