"""The console on a terminal, in-process: prompt_toolkit reads keys from a pipe and draws on a
VT100 screen kept in memory, exactly as it draws on a real terminal (tests/test_console_pty.py
does the same through a real pseudo-terminal)."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.data_structures import Size
from prompt_toolkit.document import Document
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from bot.adapters.console import ConsoleClock, run_console
from bot.adapters.console.prompt import (
    ChatCompleter,
    Terminal,
    colour_wanted,
    history_path,
    open_history,
)
from bot.adapters.console.session import COMMANDS
from bot.chat.context import RequestContext
from bot.runtime import Core
from tests.fakes.daily import FakeClock

PATIENCE = 3.0  # seconds for output that comes in milliseconds
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
DPO_THEME = "DPO vs. PPO: The Optimizer Debate"
CTRL_C, CTRL_D, UP, TAB, ENTER = "\x03", "\x04", "\x1b[A", "\t", "\r"


class ScreenStream(io.StringIO):
    """What the terminal was sent; `written` fires on each write, so a test waits on output
    rather than on the clock."""

    encoding = "utf-8"

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)


class Typist:
    """Types keys into the console and waits (boundedly) for what it shows."""

    def __init__(self, pipe: PipeInput, screen: ScreenStream, task: asyncio.Task[int]) -> None:
        self.pipe, self.screen, self.task = pipe, screen, task
        self.mark = 0

    @property
    def raw(self) -> str:
        return self.screen.getvalue()

    @property
    def text(self) -> str:
        """The screen's text without its escape codes."""
        return ESCAPES.sub("", self.raw)

    def type(self, keys: str) -> None:
        self.mark = len(self.text)
        self.pipe.send_text(keys)

    async def sees(self, wanted: str, times: int = 1) -> str:
        """Waits until what was shown since the last keys holds `wanted` `times` times."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while self.text[self.mark :].count(wanted) < times:
            self.screen.written.clear()
            if self.task.done():
                raise AssertionError(f"the console ended before showing {wanted!r}")
            left = deadline - loop.time()
            try:
                await asyncio.wait_for(self.screen.written.wait(), max(left, 0))
            except TimeoutError:
                raise AssertionError(f"{wanted!r} not shown; the screen:\n{self.text}") from None
        return self.text[self.mark :]

    async def leaves(self) -> int:
        self.type(CTRL_D)
        return await asyncio.wait_for(self.task, PATIENCE)


@asynccontextmanager
async def console_on_a_terminal(
    core: Core,
    *,
    history: History | None = None,
    colour: bool = False,
    clock: ConsoleClock | None = None,
    ctx: RequestContext | None = None,
) -> AsyncIterator[Typist]:
    with create_pipe_input() as pipe:
        screen = ScreenStream()
        output = Vt100_Output(screen, lambda: Size(rows=24, columns=100), term="xterm")
        terminal = Terminal(pipe, output, history or InMemoryHistory(), colour)
        task = asyncio.create_task(
            run_console(core, io.StringIO(), io.StringIO(), ctx, terminal=terminal, clock=clock)
        )
        typist = Typist(pipe, screen, task)
        try:
            await typist.sees(")>")  # the prompt; its last space is a cursor move
            yield typist
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_ctrl_c_drops_the_line_and_the_console_goes_on(core: Core) -> None:
    async with console_on_a_terminal(core) as console:
        console.type("zzqx")
        await console.sees("zzqx")
        console.type(CTRL_C)
        await console.sees("lambert #console (admin)>")
        console.type("dpo" + ENTER)
        shown = await console.sees(DPO_THEME)
        assert "zzqx" not in shown and "Did you mean" not in console.text
        assert await console.leaves() == 0


async def test_up_recalls_the_last_line(core: Core) -> None:
    async with console_on_a_terminal(core) as console:
        console.type("id dpo-trap" + ENTER)
        await console.sees("id: dpo-trap")
        console.type(UP)
        await console.sees("id dpo-trap")
        console.type(ENTER)
        await console.sees("id: dpo-trap")
        assert "[A" not in console.text  # the key, not its escape code, reached the line


async def test_tab_completes_dp_to_the_dpo_theme(core: Core) -> None:
    async with console_on_a_terminal(core) as console:
        console.type("dp" + TAB)
        await console.sees("dpo")
        console.type(ENTER)
        await console.sees(DPO_THEME)


async def test_ctrl_d_leaves_with_status_0(core: Core) -> None:
    async with console_on_a_terminal(core) as console:
        assert await console.leaves() == 0


async def test_history_is_kept_in_the_users_data_folder(core: Core, tmp_path: Path) -> None:
    path = history_path()
    assert path == tmp_path / "user-data" / "lambert" / "console-history"  # XDG_DATA_HOME
    async with console_on_a_terminal(core, history=open_history(path)) as console:
        console.type("id dpo-trap" + ENTER)
        await console.sees("id: dpo-trap")
        assert await console.leaves() == 0
    async with console_on_a_terminal(core, history=open_history(path)) as console:
        console.type(UP + ENTER)
        await console.sees("id: dpo-trap")
    assert "id dpo-trap" in path.read_text(encoding="utf-8")


def test_history_stays_in_memory_where_the_folder_cannot_be_written(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert isinstance(open_history(blocked / "console-history"), InMemoryHistory)


async def test_a_daily_post_prints_above_the_line_being_typed(core: Core) -> None:
    real = FakeClock(datetime(2025, 3, 10, 8, 59, tzinfo=UTC))
    async with console_on_a_terminal(core, clock=ConsoleClock(real)) as console:
        console.type("daily on 9am UTC" + ENTER)
        await console.sees("Daily quote on: every day at 09:00 UTC.")
        console.type("id dpo-tr")
        await console.sees("dpo-tr")
        real.advance_to(datetime(2025, 3, 10, 9, 0, tzinfo=UTC))
        console.mark = len(console.text)
        shown = await console.sees("id dpo-tr")  # the line being typed, drawn again below
        assert "[daily quote for #console]" in shown
        console.type("ap" + ENTER)
        await console.sees("id: dpo-trap")


async def test_the_prompt_follows_as_and_channel(core: Core) -> None:
    async with console_on_a_terminal(core, ctx=RequestContext(admin=False)) as console:
        assert "lambert #console (member)>" in console.text
        console.type(":channel general" + ENTER)
        await console.sees("lambert #general (member)>")
        console.type(":as admin" + ENTER)
        await console.sees("lambert #general (admin)>")


def colour_codes(raw: str) -> set[str]:
    """The SGR parameters that set a colour (30-49, 90-107), e.g. {"36", "38;5;102"}."""
    found = set()
    for params in SGR.findall(raw):
        parts = params.split(";")
        for i, part in enumerate(parts):
            if part in ("38", "48"):
                found.add(";".join(parts[i : i + 3]))
            elif part.isdigit() and (30 <= int(part) <= 49 or 90 <= int(part) <= 107):
                found.add(part)
    return found


@pytest.mark.parametrize("colour", [True, False])
async def test_colour_only_when_wanted(core: Core, colour: bool) -> None:
    async with console_on_a_terminal(core, colour=colour) as console:
        console.type("zzqx" + CTRL_C)
        await console.sees(")>")
        console.type("dp" + TAB)
        await console.sees("dpo")
        console.type(ENTER)
        await console.sees(DPO_THEME)
    assert bool(colour_codes(console.raw)) == colour


@pytest.mark.parametrize(("value", "wanted"), [(None, True), ("", True), ("1", False)])
def test_no_color_set_to_anything_turns_colour_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, wanted: bool
) -> None:
    if value is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", value)
    assert colour_wanted() is wanted


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("dp", ["dpo"]),
        ("/lambert dp", ["dpo"]),
        ("sea", ["search"]),
        ("dai", ["daily"]),
        ("daily o", ["daily on", "daily off"]),
        ("id dpo-sim", ["id dpo-simplicity"]),
        ("dpo sim", ["id dpo-simplicity"]),
        (":", list(COMMANDS)),
        (":ti", [":time"]),
        ("search dp", []),
        ("zzqx", []),
    ],
)
async def test_tab_offers_verbs_commands_themes_and_quotes(
    core: Core, typed: str, offered: list[str]
) -> None:
    completer = ChatCompleter(core.quotes)
    document = Document(typed)
    found = [
        document.text[: len(typed) + c.start_position] + c.text
        async for c in completer.get_completions_async(document, CompleteEvent(True))
    ]
    expected = [f"/lambert {o}" if typed.startswith("/lambert ") else o for o in offered]
    assert found[: len(expected)] == expected if expected else found == []
