"""Posting without serving: a DailyPoster per platform, for `lambert daily tick` and friends.

Each platform module is imported only when its poster is asked for, so a console-only tick
never loads discord.py or slack-bolt.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TextIO

from bot.config import Settings
from bot.ports import DailyPoster

# platform -> "module:function"; the function takes (settings, console_stream) and returns an
# async context manager yielding that platform's DailyPoster.
POSTER_FACTORIES = {
    "console": "bot.adapters.console:open_console_poster",
    "discord": "bot.adapters.discord.poster:open_discord_poster",
    "slack": "bot.adapters.slack.poster:open_slack_poster",
}

PosterFactory = Callable[[Settings, TextIO], AbstractAsyncContextManager[DailyPoster]]


def _factory(platform: str) -> PosterFactory:
    module, _, function = POSTER_FACTORIES[platform].partition(":")
    factory: PosterFactory = getattr(importlib.import_module(module), function)
    return factory


def available_platforms(settings: Settings) -> tuple[str, ...]:
    """The console always; Discord and Slack when their tokens are configured."""
    return ("console", *settings.platforms)


@asynccontextmanager
async def open_posters(
    settings: Settings, platforms: tuple[str, ...], console_stream: TextIO
) -> AsyncIterator[dict[str, DailyPoster]]:
    """Open a poster for each of `platforms` that is configured; close them all on exit."""
    usable = set(available_platforms(settings))
    async with AsyncExitStack() as stack:
        posters = {
            p: await stack.enter_async_context(_factory(p)(settings, console_stream))
            for p in platforms
            if p in usable
        }
        yield posters
