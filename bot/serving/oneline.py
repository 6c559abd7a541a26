"""Failures as one log line: serve logs each failed connection attempt once, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterable


def one_line(exc: BaseException) -> str:
    """`exc` as its type and the first line of its text, at most 200 characters."""
    lines = str(exc).strip().splitlines()
    name = type(exc).__name__
    return f"{name}: {lines[0][:200]}" if lines else name


class OneLine(logging.Filter):
    """A library's traceback cut to one line: a 60-line one per reconnect buries the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage().partition("\n")[0]
        if record.exc_info and record.exc_info[1] is not None:
            text = f"{text} ({one_line(record.exc_info[1])})"
        record.msg, record.args, record.exc_info, record.exc_text = text, None, None, None
        return True


def quiet(names: Iterable[str]) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLine) for f in logger.filters):
            logger.addFilter(OneLine())
