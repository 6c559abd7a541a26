"""The corpus's own types: a theme and a quote, with no storage or platform in sight."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Whether the text is his words or someone else's summary of his view."""

    QUOTE = "quote"
    PARAPHRASE = "paraphrase"


@dataclass(frozen=True, slots=True)
class Theme:
    slug: str
    title: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Quote:
    id: str
    text: str
    kind: Kind
    theme: str
    theme_title: str
    topic: str
    source: str

    def as_json(self) -> dict[str, str]:
        """The stable JSON shape scripts rely on (`lambert ask --json`)."""
        return {
            "id": self.id,
            "text": self.text,
            "kind": self.kind.value,
            "theme": self.theme,
            "theme_title": self.theme_title,
            "topic": self.topic,
            "source": self.source,
        }
