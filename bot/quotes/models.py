"""The corpus's own types: a theme and a quote, with no storage or platform in sight."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum

# A passage of four words or more in straight or curly double quotes. Shorter quoted spans are
# terms ("alignment ceiling", "who you know"), named rather than quoted: not his words in part.
_QUOTED_PASSAGE = re.compile(
    r'"(?:[^"\s]+\s+){3,}[^"]*"|\u201c(?:[^\u201d\s]+\s+){3,}[^\u201d]*\u201d'
)


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

    @property
    def quotes_in_part(self) -> bool:
        """A summary that holds a passage of his own words in quotation marks: labelled as such,
        decided from the text itself, so the label never claims more or less than it shows."""
        return self.kind is Kind.PARAPHRASE and _QUOTED_PASSAGE.search(self.text) is not None

    def as_json(self) -> dict[str, str | bool]:
        """The stable JSON shape scripts rely on (`lambert ask --json`)."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        return shown | {"kind": self.kind.value, "quotes_in_part": self.quotes_in_part}


# How every surface (chat, terminal, card, page) names who speaks: written once, here.
AUTHOR = "Nathan Lambert"
PARAPHRASE_LABEL = "Summary of Nathan Lambert's view (not his words)"
PARTIAL_LABEL = "Summary of Nathan Lambert's view, quoting him in part"


def summary_label(quote: Quote) -> str:
    """How a summary is labelled: one holding a quoted passage of his says so."""
    return PARTIAL_LABEL if quote.quotes_in_part else PARAPHRASE_LABEL


def quoted_body(quote: Quote) -> str:
    """The text as shown: his words inside quotation marks, a summary never."""
    if quote.kind is Kind.QUOTE:
        return f"\u201c{quote.text}\u201d"
    return quote.text


def credit_line(quote: Quote) -> str:
    """Who said it and where, worded so a paraphrase is never passed off as his words."""
    if quote.kind is Kind.QUOTE:
        return f"\u2014 {AUTHOR}, {quote.source}"
    return f"{summary_label(quote)} \u00b7 Source: {quote.source}"
