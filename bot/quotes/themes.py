"""The corpus's themes, held in memory: named by slug, title or alias, and suggested as typed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.quotes.models import Theme
from bot.quotes.search import normalise_name


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
