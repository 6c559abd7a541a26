"""The corpus's own types: a theme, a quote, and the themes held in memory by every name."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, fields
from enum import StrEnum

from bot.quotes.search import normalise_name

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
    return f"\u201c{quote.text}\u201d" if quote.kind is Kind.QUOTE else quote.text


def credit_line(quote: Quote) -> str:
    """Who said it and where, worded so a paraphrase is never passed off as his words."""
    if quote.kind is Kind.QUOTE:
        return f"\u2014 {AUTHOR}, {quote.source}"
    return f"{summary_label(quote)} \u00b7 Source: {quote.source}"


@dataclass(frozen=True, slots=True)
class ThemeInfo:
    theme: Theme
    count: int

    def as_json(self) -> dict[str, object]:
        """The stable JSON shape of a theme (`lambert themes --json`, /api/v1/themes)."""
        t = self.theme
        return {"slug": t.slug, "title": t.title, "aliases": list(t.aliases), "count": self.count}


class Themes:
    """Every theme with its number of quotes, in corpus order."""

    def __init__(self, themes: list[ThemeInfo]) -> None:
        self._themes = themes
        self._by_name: dict[str, Theme] = {}
        # Per theme: its names and its aliases, normalised once rather than on every keystroke
        # of autocomplete (that was half of its time on the real corpus).
        self._names: list[tuple[ThemeInfo, list[str], list[tuple[str, str]]]] = []
        for info in themes:
            t = info.theme
            names = [normalise_name(n) for n in (t.slug, t.title, *t.aliases)]
            for name in names:
                self._by_name.setdefault(name, t)
            self._names.append((info, names, [(a, normalise_name(a)) for a in t.aliases]))

    def themes(self) -> list[ThemeInfo]:
        return list(self._themes)

    def theme_info(self, slug: str) -> ThemeInfo | None:
        return next((i for i in self._themes if i.theme.slug == slug), None)

    def resolve_theme(self, text: str) -> Theme | None:
        """The theme `text` names by slug, title or alias, ignoring case and punctuation."""
        return self._by_name.get(normalise_name(text))

    def closest_themes(self, text: str, n: int = 3) -> list[Theme]:
        """Themes whose names look like `text`, best first, for "did you mean"."""
        names = difflib.get_close_matches(normalise_name(text), self._by_name, n=n * 3, cutoff=0.5)
        return list(dict.fromkeys(self._by_name[name] for name in names))[:n]

    def example_theme(self) -> str:
        """A theme to name in a hint, from this corpus (not a fixed `dpo`): the fullest one."""
        return max(self._themes, key=lambda info: info.count).theme.slug if self._themes else ""

    def theme_names(self) -> dict[str, Theme]:
        """Every name a theme answers to (slug, title, aliases), normalised, with its theme."""
        return dict(self._by_name)

    def count(self, theme: str | None = None) -> int:
        """How many quotes the corpus, or one theme, holds."""
        return sum(i.count for i in self._themes if theme in (None, i.theme.slug))

    def themes_matching(self, text: str) -> list[tuple[ThemeInfo, str]]:
        """Themes any of whose names starts with `text` (all when it is empty), in corpus order,
        each with the name to suggest: the alias typed, else the slug."""
        typed = normalise_name(text)
        return [
            (info, next((a for a, name in aliases if name.startswith(typed)), info.theme.slug))
            for info, names, aliases in self._names
            if any(n.startswith(typed) for n in names)  # every name starts with ""
        ]
