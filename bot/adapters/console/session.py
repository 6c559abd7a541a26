"""One console session: chat lines, its own colon commands, and the daily posts it prints."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TextIO

from bot.adapters.console.clock import TIME_USAGE, ConsoleClock, parse_instant
from bot.adapters.terminal import render
from bot.chat.context import RequestContext
from bot.chat.grammar import another, answer
from bot.chat.replies import QuoteReply, TextReply
from bot.config import Settings
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import ScheduleError
from bot.quotes.models import Quote
from bot.runtime import Core

log = logging.getLogger(__name__)

DAILY_HEADER = "[daily quote for #{channel}]"


QUIT_WORDS = {"quit", "exit", ":q"}
ANOTHER_WORDS = {"another", "next", "shuffle"}
CHANNEL_CHARS = 80
CARDS_FOLDER = Path(tempfile.gettempdir()) / "lambert-cards"  # where `card` writes its PNGs
# How long `:time` waits for the scheduler to look at the moved clock; it takes milliseconds.
SETTLE_SECONDS = 10.0


class Writable(Protocol):
    """A text stream, or the terminal's screen above the prompt (console/prompt.py)."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


@dataclasses.dataclass
class ConsolePoster:
    stream: Writable
    platform = "console"
    max_in_flight = 1  # one stream: posts printed one at a time, never interleaved

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        # A write to a local stream either happens or raises: no outcome is ever unknown.
        header = DAILY_HEADER.format(channel=channel)
        self.stream.write(f"{header}\n{render(QuoteReply(quote), chat=True)}\n\n")
        self.stream.flush()
        return f"console-{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def open_console_poster(settings: Settings, stream: TextIO) -> AsyncIterator[ConsolePoster]:
    """The console's DailyPoster (bot/serving/posters.py); it holds nothing to close."""
    yield ConsolePoster(stream)


class Console:
    """Who and where (`:as`, `:channel`), the clock, the last quote, and the daily scheduler."""

    def __init__(
        self, core: Core, ctx: RequestContext, clock: ConsoleClock, out: Writable, cards: Path
    ):
        self.clock = clock
        self.cards = cards
        # Chat commands and the scheduler read the same (movable) time.
        self.core = dataclasses.replace(core, daily=core.daily.with_clock(clock))
        self.ctx = ctx
        self.out = out
        self.last: QuoteReply | TextReply | None = None  # a TextReply: a "Did you mean"
        posters = {"console": ConsolePoster(out)}
        self.scheduler = Scheduler(self.core.quotes, self.core.daily, posters)
        self._scheduler_task: asyncio.Task[None] | None = None

    def prompt(self) -> list[tuple[str, str]]:
        """`lambert #general (admin)> `, in the parts a terminal styles (console/prompt.py)."""
        role = "admin" if self.ctx.admin is True else "member"
        where = [("class:channel", f"#{self.ctx.channel}"), ("class:role", f" ({role})")]
        return [("class:prompt", "lambert "), *where, ("class:prompt", "> ")]

    def greeting(self) -> str:
        word = self.core.quotes.example_theme() or "help"  # a theme of this corpus
        return (
            f"lambert console: type what you would type in chat, e.g. /lambert {word} or just "
            f"{word}.\nanother shows the next quote for the last request, help lists chat "
            "commands, :help the\nconsole's own (:as admin, :channel NAME, :time 08:59 UTC), "
            "quit (or Ctrl-D) leaves.\n"
        )

    def say(self, text: str) -> None:
        """One whole write per reply: the post above the prompt never splits one."""
        self.out.write(text + "\n\n")
        self.out.flush()

    async def run(self, read: Callable[[], Awaitable[str | None]]) -> int:
        """Answer each line `read` gives until None or `quit`, the daily scheduler running."""
        # Opened before the first prompt, the shared state's imports and migration never stall
        # the typing; one that cannot open is the scheduler's to report, pass after pass.
        with contextlib.suppress(Exception):
            await self.core.daily.store.schedules()
        stop = asyncio.Event()
        self._scheduler_task = asyncio.create_task(self.scheduler.run(stop))
        try:
            while (line := await read()) is not None and await self.handle(line.strip()):
                pass
        finally:
            stop.set()
            try:
                await self._scheduler_task
            except Exception:
                log.exception("the console's daily scheduler failed")
        return 0

    async def handle(self, text: str) -> bool:
        """Answer one line; False when it asks to leave."""
        if text.casefold() in QUIT_WORDS:
            return False
        if text:
            self.say(await self.reply(text))
        if text.partition(" ")[0].casefold() == ":time":
            await self.settle()
        return True

    async def reply(self, text: str) -> str:
        if text.startswith(":"):
            name, _, rest = text.partition(" ")
            command = COMMANDS.get(name.casefold())
            if name == ":":
                names = ", ".join(COMMANDS)
                return f"! A console command follows the colon: {names}; :help says more."
            if command is None:
                return f"! No console command {name[:40]}: see :help."
            return await command[2](self, rest.strip())
        if text.casefold() in ANOTHER_WORDS:
            if isinstance(self.last, TextReply):  # a "Did you mean": a quote for the suggestion
                # (through Another, never running it: `dialy off` must not turn anything off)
                reply = await another(self.core, self.last.meant, "", self.ctx)
            elif self.last is None:
                return "Nothing to follow yet: ask for a quote first."
            elif self.last.matches <= 1:  # the platforms hide or grey out their button here
                return "That is the only quote for that request: try a theme or themes."
            else:
                reply = await another(self.core, self.last.request, self.last.quote.id, self.ctx)
        else:
            reply = await answer(self.core, text, self.ctx)
        shown = render(reply, chat=True)
        if isinstance(reply, QuoteReply) or (isinstance(reply, TextReply) and reply.meant):
            self.last = reply
        if isinstance(reply, QuoteReply) and reply.card:
            shown += "\n\n" + self.save_card(reply.quote)
        return shown

    def save_card(self, quote: Quote) -> str:
        """The card written to the cards folder: a chat shows it, a terminal names it."""
        from bot.cards import card_file_name, card_png  # Pillow loads with the first card only

        path = self.cards / card_file_name(quote)
        try:
            self.cards.mkdir(parents=True, exist_ok=True)
            path.write_bytes(card_png(quote))
        except OSError as exc:
            return f"! The card could not be written to {path}: {exc.strerror}."
        return f"Card: {path}"

    async def settle(self) -> None:
        """Until the scheduler has posted what is due at the moved time (before the prompt)."""
        task = self._scheduler_task
        if task is None or task.done():
            return
        changed = self.core.daily.changed
        changed.set()  # a pass under way read the old time: this makes the scheduler go again
        asleep = self.clock.asleep(lambda: not changed.is_set() and self.scheduler.posting == 0)
        await asyncio.wait(
            {asleep, task}, timeout=SETTLE_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        asleep.cancel()  # a no-op once done


async def _as(console: Console, rest: str) -> str:
    role = rest.casefold()
    if role not in ("member", "admin"):
        return "! Use :as member or :as admin."
    console.ctx = dataclasses.replace(console.ctx, admin=role == "admin")
    return f"You are now {'an admin' if role == 'admin' else 'a member'} in #{console.ctx.channel}."


async def _channel(console: Console, rest: str) -> str:
    name = rest.removeprefix("#")
    if not 0 < len(name) <= CHANNEL_CHARS or " " in name or not name.isprintable():
        return f"! Use :channel NAME, a name of up to {CHANNEL_CHARS} characters without spaces."
    console.ctx = dataclasses.replace(console.ctx, channel=name)
    return f"You are now in #{name}."


async def _time(console: Console, rest: str) -> str:
    if not rest:
        return f"The console's clock reads {_when(console)}."
    try:
        reading = parse_instant(rest, console.clock.now())
    except ScheduleError as exc:
        return f"! {exc}"
    if reading is None:
        console.clock.reset()
        return f"The console's clock reads the real time again: {_when(console)}."
    console.clock.move_to(reading[0])
    return f"{reading[1]} The console's clock now reads {_when(console)}.".lstrip()


def _when(console: Console) -> str:
    return console.clock.now().strftime("%Y-%m-%d %H:%M UTC")


async def _help(console: Console, rest: str) -> str:
    rows = [(usage, what) for usage, what, _ in COMMANDS.values()]
    rows += [("another", "the next quote for the last request"), ("quit", "leave (or Ctrl-D)")]
    lines = [f"  {usage:<26} {what}" for usage, what in rows]
    return "\n".join(["Console commands (anything else is what you would type in chat):", *lines])


# The console's own commands, in the order :help lists them: usage, help, and the handler,
# which gets the words after the name.
COMMANDS: dict[str, tuple[str, str, Callable[[Console, str], Awaitable[str]]]] = {
    ":as": (":as member | :as admin", "who you are: admins may set the daily quote", _as),
    ":channel": (":channel NAME", "where you are, e.g. :channel general", _channel),
    ":time": (":time 08:59 Europe/Berlin", f"move the console's clock: {TIME_USAGE}", _time),
    ":help": (":help", "this list", _help),
}
