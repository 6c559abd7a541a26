"""Query parameters read strictly: too long, not a number or out of range is a 400 saying
what to send instead, never a 500."""

from __future__ import annotations

from collections.abc import Mapping

from bot.web.page import Problem

MAX_TEXT = 200  # characters of a search or a theme name; a longer one is refused, not cut
MAX_PAGE = 100  # search pages (the chat grammar's MAX_PAGE is for typed commands)


def text(query: Mapping[str, str], name: str, limit: int = MAX_TEXT) -> str:
    value = query.get(name, "")
    if len(value) > limit:
        raise Problem(400, f"{name} is {len(value)} characters long; send at most {limit}")
    return value.strip()


def number(query: Mapping[str, str], name: str, default: int, high: int) -> int:
    raw = query.get(name, "").strip()
    if not raw:
        return default
    # Digits only, and few of them: int() of 100,000 digits is slow and "+1" or "1_0" are
    # not what anyone typed into a link.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= high:
        raise Problem(400, f"{name} must be a whole number from 1 to {high}, e.g. {name}={default}")
    return int(raw)
