"""The console adapter: type what you would type in chat, read a plain-text rendering."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import TextIO

from bot.adapters.terminal import Commands, render
from bot.chat.context import RequestContext
from bot.chat.grammar import another, answer
from bot.chat.replies import (
    QuoteReply,
)
from bot.config import Settings
from bot.quotes.models import Quote
from bot.runtime import Core

PROMPT = "lambert> "
GREETING = (
    "lambert console: type what you would type in chat, e.g. /lambert dpo or just dpo.\n"
    "another shows the next quote for the last request, help lists commands, "
    "quit (or Ctrl-D) leaves.\n"
)
QUIT_WORDS = {"quit", "exit", ":q"}
ANOTHER_WORDS = {"another", "next", "shuffle"}


async def run_console(
    core: Core,
    stdin: TextIO,
    stdout: TextIO,
    ctx: RequestContext | None = None,
    *,
    interactive: bool = True,
) -> int:
    """Answer lines from `stdin` on `stdout` until EOF or `quit`; returns an exit status."""
    # Whoever types at this terminal runs the bot: the local operator, so an admin.
    ctx = ctx or RequestContext(admin=True)
    if interactive:
        stdout.write(GREETING)
    last: QuoteReply | None = None
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        # A thread keeps a blocking terminal read from stalling the event loop (and the scheduler).
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.strip()
        if text.casefold() in QUIT_WORDS:
            break
        if not text:
            continue
        if text.casefold() in ANOTHER_WORDS:
            if last is None:
                stdout.write("Nothing to follow yet: ask for a quote first.\n\n")
                continue
            if last.matches <= 1:  # the platforms hide or grey out their button here
                stdout.write("That is the only quote for that request: try a theme or themes.\n\n")
                continue
            reply = await another(core, last.request, after=last.quote.id)
        else:
            reply = await answer(core, text, ctx)
        if isinstance(reply, QuoteReply):
            last = reply
        stdout.write(render(reply, Commands.CHAT) + "\n\n")
        stdout.flush()
    return 0


class ConsolePoster:
    """The console as a daily-post platform: each post is printed to a stream."""

    platform = "console"
    max_in_flight = 1  # one stream: posts printed one at a time, never interleaved

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        # A write to a local stream either happens or raises: no outcome is ever unknown.
        message_id = f"console-{uuid.uuid4().hex[:12]}"
        self.stream.write(
            f"[daily quote for #{channel}]\n{render(QuoteReply(quote), Commands.CHAT)}\n\n"
        )
        self.stream.flush()
        return message_id


@asynccontextmanager
async def open_console_poster(settings: Settings, stream: TextIO) -> AsyncIterator[ConsolePoster]:
    """The console's DailyPoster (bot/serving/posters.py); it holds nothing to close."""
    yield ConsolePoster(stream)
