"""The console in a terminal (prompt_toolkit): editing, history, Tab completion and colour."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import platformdirs
from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input, create_input
from prompt_toolkit.output import ColorDepth, Output, create_output
from prompt_toolkit.styles import Style

from bot.adapters.console.session import COMMANDS, DAILY_HEADER, Console
from bot.chat.grammar import VERBS
from bot.quotes.service import QuoteService

STYLE = Style.from_dict(
    {
        "prompt": "bold",
        "channel": "ansicyan bold",
        "role": "ansiyellow",
        "title": "bold",
        "refusal": "ansired bold",
        "daily": "ansimagenta bold",
        "note": "ansibrightblack",
    }
)


def history_path() -> Path:
    """Where the console keeps the lines typed: the user's data folder, beside the database."""
    return platformdirs.user_data_path("lambert", appauthor=False) / "console-history"


def open_history(path: Path) -> History:
    """The lines typed in earlier sessions; in memory only when the folder is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.open("a", encoding="utf-8").close()  # FileHistory appends each line as typed
    except OSError:
        return InMemoryHistory()
    return FileHistory(path)


def colour_wanted() -> bool:
    """Colour unless NO_COLOR is set to anything (https://no-color.org)."""
    return not os.environ.get("NO_COLOR")


@dataclass
class Terminal:
    """Where an interactive console reads and prints: a tty, or a test's pipe input."""

    input: Input
    output: Output
    history: History
    colour: bool = True

    @classmethod
    def of(cls, stdin: TextIO, stdout: TextIO) -> Terminal:
        history = open_history(history_path())
        return cls(create_input(stdin), create_output(stdout), history, colour_wanted())

    def write(self, text: str, /, plain: bool = False) -> int:
        """A text stream's write: above the prompt when one is showing, else at the cursor."""
        print_formatted_text(
            text if plain or not self.colour else styled(text),
            end="",
            output=self.output,
            style=STYLE,
            # None: what the terminal says it can show (TERM, PROMPT_TOOLKIT_COLOR_DEPTH)
            color_depth=None if self.colour else ColorDepth.MONOCHROME,
            include_default_pygments_style=False,
        )
        return len(text)

    def flush(self) -> None:
        self.output.flush()


def styled(text: str) -> FormattedText:
    """A reply's first line bold (red when refused), a daily post's header coloured."""
    fragments: list[tuple[str, str]] = []
    daily = DAILY_HEADER.partition("{")[0]
    first = True
    for line in text.splitlines(keepends=True):
        if line.startswith(daily):
            style, first = "class:daily", True  # the quote's title follows
        elif first and line.strip():
            style, first = ("class:refusal" if line.startswith("! ") else "class:title"), False
        elif line.lstrip().startswith("id:") or " \u00b7 id: " in line:
            style = "class:note"
        else:
            style = ""
        fragments.append((style, line))
    return FormattedText(fragments)


class ChatCompleter(Completer):
    """Tab: verbs and colon commands, then the themes and quotes Discord's autocomplete offers."""

    def __init__(self, quotes: QuoteService) -> None:
        self.quotes = quotes

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
        return ()  # prompt_toolkit asks get_completions_async: the quotes are in the database

    async def get_completions_async(
        self, document: Document, event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        text = document.text_before_cursor.lstrip()
        if text.startswith(":"):
            for name in COMMANDS:
                if name.startswith(text.casefold()) and name != text:
                    yield Completion(name, -len(text))
            return
        head, space, rest = text.partition(" ")
        if head.casefold() == "/lambert" and space:
            text = rest.lstrip()
            head, space, rest = text.partition(" ")
        if not space and head:
            for name in VERBS:
                if name.startswith(head.casefold()) and name != head:
                    yield Completion(name, -len(text), display_meta="command")
        verb = VERBS.get(head.casefold()) if space else None
        if verb is None or verb.name == "id":  # `id` offers only quotes: "id ..." values
            for suggestion in await self.quotes.autocomplete(rest if verb else text):
                if verb is None or suggestion.value.startswith("id "):
                    yield Completion(suggestion.value, -len(text), display=suggestion.label)
        elif verb.name == "daily" and " " not in rest:
            for word in ("on", "off", "status"):
                if word.startswith(rest.casefold()) and word != rest:
                    yield Completion(f"daily {word}", -len(text))


async def prompt_lines(console: Console, terminal: Terminal) -> int:
    """Read and answer lines until Ctrl-D or `quit`; Ctrl-C drops the line being typed."""

    def prompt() -> Any:
        parts = console.prompt()
        return FormattedText(parts) if terminal.colour else "".join(text for _, text in parts)

    # One session for the whole console: its history is what Up recalls.
    session: PromptSession[str] = PromptSession(
        prompt,
        input=terminal.input,
        output=terminal.output,
        history=terminal.history,
        completer=ChatCompleter(console.core.quotes),
        complete_while_typing=False,  # Tab asks; Up and Down stay with the history
        style=STYLE,
        color_depth=None if terminal.colour else ColorDepth.MONOCHROME,
        include_default_pygments_style=False,
        enable_history_search=False,
    )
    terminal.write(console.greeting(), plain=True)

    async def read() -> str | None:
        while True:
            try:
                return await session.prompt_async()
            except KeyboardInterrupt:
                continue
            except EOFError:
                return None

    return await console.run(read)
