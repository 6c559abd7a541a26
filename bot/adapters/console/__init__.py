"""The console adapter: type what you would type in chat, read a plain-text rendering."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.adapters.console.clock import ConsoleClock
from bot.adapters.console.session import (
    CARDS_FOLDER,
    QUIT_WORDS,
    Console,
    ConsolePoster,
    open_console_poster,
)
from bot.chat.context import RequestContext
from bot.runtime import Core

if TYPE_CHECKING:
    from bot.adapters.console.prompt import Terminal

__all__ = ["QUIT_WORDS", "ConsoleClock", "ConsolePoster", "open_console_poster", "run_console"]


async def run_console(
    core: Core,
    stdin: TextIO,
    stdout: TextIO,
    ctx: RequestContext | None = None,
    *,
    interactive: bool = True,
    clock: ConsoleClock | None = None,
    terminal: Terminal | None = None,
    cards: Path = CARDS_FOLDER,
) -> int:
    """Answer lines until EOF or `quit` (prompt_toolkit on a terminal); returns an exit status."""
    # Whoever types at this terminal runs the bot: the local operator, so an admin.
    ctx = ctx or RequestContext(admin=True)
    clock = clock or ConsoleClock()
    if terminal is not None or (interactive and _is_tty(stdin) and _is_tty(stdout)):
        # Only a terminal loads prompt_toolkit.
        from bot.adapters.console.prompt import Terminal, prompt_lines

        terminal = terminal or Terminal.of(stdin, stdout)
        return await prompt_lines(Console(core, ctx, clock, terminal, cards), terminal)
    console = Console(core, ctx, clock, stdout, cards)
    if interactive:
        stdout.write(console.greeting())

    async def read() -> str | None:
        if interactive:
            stdout.write("".join(text for _, text in console.prompt()))
            stdout.flush()
        # A thread keeps a blocking read from stalling the event loop (and the scheduler).
        return await asyncio.to_thread(stdin.readline) or None

    return await console.run(read)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False
