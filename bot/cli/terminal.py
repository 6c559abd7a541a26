"""The CLI's own terminal output: colour where a terminal wants it, and a corpus load's progress."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

RED, BOLD = "31", "1"
# A corpus file this big takes about a second or more to load on a small machine (about
# 6,000 quotes; 100,000 take 10-14 s here, mostly the parse): smaller loads show nothing.
SHOW_FROM_BYTES = 2_000_000


def _terminal(stream: TextIO) -> bool:
    """A terminal that shows what escape codes draw: a tty, TERM not dumb."""
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def paint(text: str, code: str, stream: TextIO) -> str:
    """`text` in an ANSI style on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR") or not _terminal(stream):
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


class LoadProgress:
    """The progress callback of a corpus load: (quotes written, of total), total 0 while the
    file is parsed. A bar on a terminal, else a line per tenth; nothing for a small file."""

    def __init__(self, stream: TextIO, corpus: Path) -> None:
        self.stream = stream
        self.corpus = corpus
        self.mode = ""  # "bar", "lines" or "off", chosen at the first call
        self.tenths = 0
        self.bar = ExitStack()  # prompt_toolkit's ProgressBar, imported only for a big load
        self.counter: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.mode:
            self.mode = self._start()
        if self.mode == "bar":
            if total:
                self.counter.label, self.counter.total = "quotes", total
                self.counter.items_completed = done
            self.counter.progress_bar.invalidate()
        elif self.mode == "lines" and total and done * 10 // total > self.tenths:
            self.tenths = done * 10 // total
            self._line(f"{self.tenths * 10}% ({done:,} of {total:,} quotes)")
        if total and done >= total:
            self.close()

    def _start(self) -> str:
        try:
            size = self.corpus.stat().st_size
        except OSError:
            size = 0
        if size < SHOW_FROM_BYTES:
            return "off"
        what = f"{size / 1e6:.1f} MB, once after each change"
        if not _terminal(self.stream):
            self._line(what)
            return "lines"
        from prompt_toolkit.input import create_pipe_input
        from prompt_toolkit.output import create_output
        from prompt_toolkit.shortcuts import ProgressBar

        # An input that never ends nor reads the keyboard (standard input is the command's).
        keys = self.bar.enter_context(create_pipe_input())
        title = f"lambert: loading the corpus ({what})"
        output = create_output(stdout=self.stream)
        bar = self.bar.enter_context(ProgressBar(title=title, output=output, input=keys))
        self.counter = bar(label="parsing", total=None)
        self.bar.callback(setattr, self.counter, "done", True)  # runs first: the bar's last draw
        return "bar"

    def _line(self, text: str) -> None:
        self.stream.write(f"lambert: loading the corpus: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        """Stop the bar, leaving its last state on screen: a failed load shows how far it got."""
        self.bar.close()
