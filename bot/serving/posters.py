"""Posting without serving: a DailyPoster per platform, for `lambert daily tick` and friends.

Each platform module is imported only when its poster is asked for, so a console-only tick
never loads discord.py or slack-bolt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TextIO

from bot.config import Settings
from bot.platforms import PLATFORMS, posting
from bot.ports import DailyPoster

PosterFactory = Callable[[Settings, TextIO], AbstractAsyncContextManager[DailyPoster]]


def available_platforms(settings: Settings) -> tuple[str, ...]:
    """The console always; Discord and Slack when their tokens are configured."""
    return tuple(p.name for p in posting(settings))


@asynccontextmanager
async def open_posters(
    settings: Settings, platforms: tuple[str, ...], console_stream: TextIO
) -> AsyncIterator[dict[str, DailyPoster]]:
    """Open a poster for each of `platforms` that is configured; close them all on exit."""
    usable = set(available_platforms(settings))
    async with AsyncExitStack() as stack:
        posters = {
            p: await stack.enter_async_context(_poster_factory(p)(settings, console_stream))
            for p in platforms
            if p in usable
        }
        yield posters


def _poster_factory(platform: str) -> PosterFactory:
    declared = PLATFORMS[platform]
    factory: PosterFactory = declared.load(declared.post)
    return factory
