"""One slip of the finger: a word that is a known name with one letter wrong, missing, extra,
or two neighbours swapped (`serach`, `hepl`, `dialy`, `themse`)."""

from __future__ import annotations

from collections.abc import Iterable

MIN_SLIP_LENGTH = 3  # "is" is one slip from "id": two-letter words are never taken for slips


def one_slip(typed: str, name: str) -> bool:
    """Whether `typed` is `name` with exactly one slip (the optimal string alignment distance 1)."""
    if typed == name or abs(len(typed) - len(name)) > 1:
        return False
    if len(typed) == len(name):
        diff = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
        if len(diff) == 1:
            return True
        i, j = [*diff, 0, 0][:2]
        return len(diff) == 2 and j == i + 1 and typed[i] == name[j] and typed[j] == name[i]
    shorter, longer = sorted((typed, name), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def slip_of(typed: str, names: Iterable[str]) -> str | None:
    """The one name `typed` is a slip of; None when none, or when it could be several."""
    if len(typed) < MIN_SLIP_LENGTH:
        return None
    found = {name for name in names if one_slip(typed, name)}
    return found.pop() if len(found) == 1 else None
