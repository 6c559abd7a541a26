"""One [[themes]] or [[quotes]] table of the corpus file, and the checks on its values."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG_LENGTH = 40
# Bidirectional embeddings, overrides and isolates: they make text display in another order
# than it reads ("Trojan Source"), so no corpus text may carry them.
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


class CorpusError(Exception):
    """The corpus file cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One [[themes]] or [[quotes]] table and where it sits, for precise error messages."""

    origin: str
    table: str
    index: int
    values: Mapping[str, object]

    def label(self) -> str:
        name_key = "slug" if self.table == "themes" else "id"
        name = self.values.get(name_key)
        # Only a printable name: the label must not carry a control character into a terminal.
        if isinstance(name, str) and name.strip() and name.isprintable():
            return f'{self.table}[{self.index}] ({name_key} "{name}")'
        return f"{self.table}[{self.index}]"

    def error(self, problem: str, fix: str) -> CorpusError:
        return CorpusError(f"{self.origin}: {self.label()}: {problem} — {fix}")

    def string(self, key: str) -> str:
        """The value of a required string key, rejected if missing, blank or padded."""
        if key not in self.values:
            raise self.error(f'missing required key "{key}"', f'add {key} = "..."')
        value = self.values[key]
        if not isinstance(value, str):
            raise self.error(f'"{key}" must be a string', f'write it as {key} = "..."')
        if not value.strip():
            raise self.error(f'"{key}" is empty', f"give {key} a value or remove the entry")
        check_characters(self, key, value, line_breaks=key == "text")
        if value != strip_invisible(value):
            # Texts are shown exactly as stored, so stray whitespace would reach the chat.
            raise self.error(
                f'"{key}" starts or ends with whitespace or an invisible character',
                "remove it (values are used exactly as written, never trimmed)",
            )
        return value

    def slug(self, key: str) -> str:
        value = self.string(key)
        if len(value) > MAX_SLUG_LENGTH or not SLUG_PATTERN.fullmatch(value):
            raise self.error(
                f'{key} "{value}" is not a valid slug',
                f"use lowercase a-z, 0-9 and single hyphens, at most {MAX_SLUG_LENGTH} characters",
            )
        return value


def reject_unknown_keys(values: Mapping[str, object], allowed: Sequence[str], where: str) -> None:
    for key in values:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            raise CorpusError(
                f'{where}: unknown key "{key}" — {hint}allowed keys: {", ".join(allowed)}'
            )


def _is_invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf"


def strip_invisible(value: str) -> str:
    start, end = 0, len(value)
    while start < end and _is_invisible(value[start]):
        start += 1
    while end > start and _is_invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def check_characters(entry: Entry, key: str, value: str, *, line_breaks: bool) -> None:
    """Refuse what would reach the chat unseen or garble it: control characters (a line break
    only in a text), bidirectional overrides, and a value made of invisible characters only."""
    for position, char in enumerate(value, start=1):
        if char in BIDI_CONTROLS:
            raise entry.error(
                f'"{key}" contains the bidirectional control U+{ord(char):04X} at character '
                f"{position}",
                "remove it (it makes the text display in another order than it reads)",
            )
        if unicodedata.category(char) == "Cc" and not (line_breaks and char in "\r\n"):
            allowed = "only line breaks, and only in text, are allowed"
            raise entry.error(
                f'"{key}" contains the control character U+{ord(char):04X} at character {position}',
                f"remove it ({allowed})",
            )
    if not strip_invisible(value):
        raise entry.error(
            f'"{key}" is only invisible characters (zero-width or spaces)',
            f"give {key} a visible value or remove the entry",
        )
