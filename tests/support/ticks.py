"""A scheduler pass through a running platform's own poster at a chosen instant, and the
instant tests usually choose: the next 09:00 in Berlin."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.daily.clock import StoppedClock
from bot.daily.report import TickReport
from bot.daily.scheduler import Scheduler
from bot.ports import DailyPoster
from bot.runtime import Core

BERLIN = ZoneInfo("Europe/Berlin")


class Posting(Protocol):
    """A started platform (SlackPlatform, DiscordPlatform): its name and its poster."""

    name: str

    def poster(self) -> DailyPoster: ...


def next_nine_in_berlin() -> datetime:
    """The first 09:00 Berlin time after now (schedules set from chat count from real now)."""
    now = datetime.now(BERLIN)
    nine = datetime.combine(now.date(), time(9), tzinfo=BERLIN)
    return nine if nine > now else datetime.combine(now.date() + timedelta(1), time(9), BERLIN)


async def tick_at(core: Core, platform: Posting, instant: datetime) -> TickReport:
    """One scheduler pass as if the clock read `instant`, posting through `platform`."""
    clock = StoppedClock(instant)
    posters = {platform.name: platform.poster()}
    return await Scheduler(core.quotes, core.daily.with_clock(clock), posters).tick()
