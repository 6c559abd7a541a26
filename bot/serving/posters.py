"""Posting without serving: a DailyPoster per platform, for `lambert daily tick` and friends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date
from typing import TextIO

from bot.config import ConfigError, Settings
from bot.logs import one_line
from bot.platforms import PLATFORMS
from bot.ports import DailyPoster, TransientPostError
from bot.quotes.models import Quote

log = logging.getLogger(__name__)


def available_platforms(settings: Settings) -> tuple[str, ...]:
    """The console always; Discord and Slack when their tokens are configured."""
    return tuple(p.name for p in PLATFORMS.values() if p.configured(settings))


@asynccontextmanager
async def open_posters(
    settings: Settings, platforms: tuple[str, ...], console_stream: TextIO
) -> AsyncIterator[dict[str, DailyPoster]]:
    """A poster for each configured one of `platforms`, at once, each opening in a task of its
    own: one that hangs never holds up another's posts. One that cannot be reached fails its
    posts as transient (retried); a rejected token too, and raises ConfigError on exit."""
    usable = set(available_platforms(settings))
    openings = [Opening(p, settings, console_stream) for p in platforms if p in usable]
    try:
        yield {opening.platform: opening for opening in openings}
    finally:
        for opening in reversed(openings):
            await opening.aclose()
    for opening in openings:
        if opening.refused is not None:
            raise opening.refused


class Opening:
    """A platform's DailyPoster while it opens: each post waits for the opening, then goes
    through the opened poster, within its max_in_flight."""

    max_in_flight = 8  # the scheduler's bound for a platform not yet open

    def __init__(self, platform: str, settings: Settings, console_stream: TextIO) -> None:
        self.platform = platform
        self.refused: ConfigError | None = None
        self._stack = AsyncExitStack()
        self._opened = asyncio.create_task(
            self._open(settings, console_stream), name=f"opening {platform}"
        )
        self._limit = asyncio.Semaphore(self.max_in_flight)

    async def _open(self, settings: Settings, console_stream: TextIO) -> DailyPoster | str:
        """The opened poster, or why not (its posts then fail as transient: retried, not lost)."""
        try:
            declared = PLATFORMS[self.platform]
            factory = declared.load(declared.post)(settings, console_stream)
            poster: DailyPoster = await self._stack.enter_async_context(factory)
        except ConfigError as exc:
            self.refused = exc
            return str(exc)
        except Exception as exc:
            reason = f"could not reach {self.platform} ({one_line(exc)})"
            log.warning("%s: its daily posts will be retried", reason)
            return reason
        self._limit = asyncio.Semaphore(poster.max_in_flight)
        return poster

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        # A post given up on (its caller cancelled) never cancels the opening others wait for.
        poster = await asyncio.shield(self._opened)
        if isinstance(poster, str):
            raise TransientPostError(poster)
        async with self._limit:
            return await poster.post_daily(channel, quote, day)

    async def aclose(self) -> None:
        self._opened.cancel()  # an opening still hung is cut short
        await asyncio.gather(self._opened, return_exceptions=True)
        await self._stack.aclose()
