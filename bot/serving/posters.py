"""Posting without serving: a DailyPoster per platform, for `lambert daily tick` and friends.

Each platform module is imported only when its poster is asked for, so a console-only tick
never loads discord.py or slack-bolt.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import date
from typing import TextIO

from bot.config import ConfigError, Settings
from bot.platforms import PLATFORMS, posting
from bot.ports import DailyPoster, TransientPostError
from bot.quotes.models import Quote
from bot.runtime import Core
from bot.serving.oneline import one_line

log = logging.getLogger(__name__)

PosterFactory = Callable[[Settings, TextIO], AbstractAsyncContextManager[DailyPoster]]


def available_platforms(settings: Settings) -> tuple[str, ...]:
    """The console always; Discord and Slack when their tokens are configured."""
    return tuple(p.name for p in posting(settings))


@asynccontextmanager
async def open_posters(
    settings: Settings, platforms: tuple[str, ...], console_stream: TextIO, core: Core
) -> AsyncIterator[dict[str, DailyPoster]]:
    """Open a poster for each of `platforms` that is configured; close them all on exit.

    A platform that cannot be reached now (DNS, refused, 5xx) gets an Unreachable poster, so
    the others still post and its days are recorded as failed, to be retried; a token the
    platform rejects raises ConfigError.
    """
    usable = set(available_platforms(settings))
    async with AsyncExitStack() as stack:
        posters: dict[str, DailyPoster] = {}
        for p in platforms:
            if p not in usable:
                continue
            try:
                opened = _poster_factory(p)(settings, console_stream)
                posters[p] = await stack.enter_async_context(opened)
            except ConfigError:
                raise
            except Exception as exc:
                reason = f"could not reach {p} ({one_line(exc)})"
                log.warning("%s: its daily posts will be retried", reason)
                posters[p] = Unreachable(p, reason)
        yield posters


class Unreachable:
    """The DailyPoster of a platform that could not be reached: every post is a transient
    failure, so the scheduler records a retry instead of losing the day."""

    max_in_flight = 8  # nothing is sent: this only bounds the retries recorded at once

    def __init__(self, platform: str, reason: str) -> None:
        self.platform = platform
        self.reason = reason

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        raise TransientPostError(self.reason)


def _poster_factory(platform: str) -> PosterFactory:
    declared = PLATFORMS[platform]
    factory: PosterFactory = declared.load(declared.post)
    return factory
