"""The console as a daily-post platform: each post is printed where the console prints."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, Protocol, TextIO

from bot.adapters.terminal import Commands, render
from bot.chat.replies import QuoteReply
from bot.config import Settings
from bot.quotes.models import Quote

DAILY_HEADER = "[daily quote for #{channel}]"


class Writable(Protocol):
    """A text stream, or the terminal's screen above the prompt (console/prompt.py)."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


class ConsolePoster:
    """The console as a daily-post platform: each post is printed to a stream."""

    platform = "console"
    max_in_flight = 1  # one stream: posts printed one at a time, never interleaved

    def __init__(self, stream: Writable) -> None:
        self.stream = stream

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        # A write to a local stream either happens or raises: no outcome is ever unknown.
        message_id = f"console-{uuid.uuid4().hex[:12]}"
        self.stream.write(
            f"{DAILY_HEADER.format(channel=channel)}\n"
            f"{render(QuoteReply(quote), Commands.CHAT)}\n\n"
        )
        self.stream.flush()
        return message_id


@asynccontextmanager
async def open_console_poster(settings: Settings, stream: TextIO) -> AsyncIterator[ConsolePoster]:
    """The console's DailyPoster (bot/serving/posters.py); it holds nothing to close."""
    yield ConsolePoster(stream)
