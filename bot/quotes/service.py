"""The one API adapters and the grammar call: themes, random quotes, look-ups and search."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import random
from dataclasses import dataclass, replace
from datetime import date

from bot.quotes.models import Quote, Theme
from bot.quotes.search import (
    ParsedQuery,
    clean_user_text,
    normalise_name,
    parse_query,
    to_fts,
    words,
)
from bot.quotes.store import QuoteStore

AUTOCOMPLETE_LIMIT = 25  # Discord's ceiling for autocomplete choices
TYPO_CUTOFF = 0.75
MIN_PREFIX = 3  # "c" as a prefix matches half the corpus: that is noise, not a search


@dataclass(frozen=True, slots=True)
class ThemeInfo:
    theme: Theme
    count: int

    def as_json(self) -> dict[str, object]:
        """The stable JSON shape of a theme (`lambert themes --json`, /api/v1/themes)."""
        t = self.theme
        return {"slug": t.slug, "title": t.title, "aliases": list(t.aliases), "count": self.count}


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Ranked quotes, the total that matched, and the corrected text when typos were fixed."""

    quotes: tuple[Quote, ...]
    total: int
    corrected: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An autocomplete choice: `label` to show, `value` to run as `/lambert <value>`."""

    label: str
    value: str


class QuoteService:
    """Answers questions about the corpus. Build it with `await QuoteService.create(store)`."""

    def __init__(self, store: QuoteStore, themes: list[ThemeInfo], rng: random.Random) -> None:
        self.store = store
        self._rng = rng
        self._themes = themes
        self._ids: dict[str | None, tuple[str, ...]] | None = None  # load_ids
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

    @classmethod
    async def create(cls, store: QuoteStore, rng: random.Random | None = None) -> QuoteService:
        themes = [ThemeInfo(theme, count) for theme, count in await store.themes()]
        return cls(store, themes, rng or random.Random())  # noqa: S311 (not for secrets)

    def themes(self) -> list[ThemeInfo]:
        return list(self._themes)

    async def load_ids(self) -> None:
        """Read every quote's id once, for `ids` (the daily shuffle bag draws from them)."""
        if self._ids is None:
            slugs = [None, *(info.theme.slug for info in self._themes)]
            self._ids = {slug: tuple(await self.store.quote_ids(slug)) for slug in slugs}

    def ids(self, theme: str | None = None) -> tuple[str, ...]:
        """The quote ids of the corpus or of one theme, in corpus order; `load_ids` first."""
        assert self._ids is not None, "load_ids first"
        return self._ids.get(theme, ())

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

    async def knows_word(self, text: str) -> bool:
        """Whether every word of `text` occurs in the corpus: such text is meant, not a slip."""
        found = words(text)
        return bool(found) and set(found) <= await self.store.known_words(found)

    async def quote(self, quote_id: str) -> Quote | None:
        return await self.store.quote_by_id(clean_user_text(quote_id).casefold())

    def count(self, theme: str | None = None) -> int:
        """How many quotes the corpus, or one theme, holds."""
        return sum(i.count for i in self._themes if theme in (None, i.theme.slug))

    async def quotes(
        self, theme: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[Quote]:
        """Quotes of the corpus, or of one theme, in corpus order: `limit` from `offset`."""
        return await self.store.quotes_in_order(theme, offset, limit)

    async def of_the_day(self, day: date) -> Quote | None:
        """The quote of the (UTC) day: the same everywhere all day (the web site, its feed,
        Slack's Home tab), stored nowhere; None for an empty corpus."""
        count = self.count()
        return await self.store.quote_at(day_index(day, count)) if count else None

    async def random_quote(
        self, theme: str | None = None, exclude: str | None = None
    ) -> Quote | None:
        """A random quote of the corpus or a theme; never `exclude` unless it is the only one."""
        count = self.count(theme)
        if count == 0:
            return None
        skip = await self.store.position_of(exclude, theme) if exclude and count > 1 else None
        index = self._rng.randrange(count - (skip is not None))
        if skip is not None and index >= skip:
            index += 1
        return await self.store.quote_at(index, theme)

    async def search(self, text: str, limit: int = 5, theme: str | None = None) -> SearchResult:
        """Rank quotes for free text; never raises on user input. Tries, in order: every word;
        the last as a prefix (still typing); typos corrected to the corpus's words; any word."""
        query = parse_query(text)
        if query.empty:
            return SearchResult((), 0)
        attempts = [to_fts(query)]
        if query.terms and len(query.terms[-1]) >= MIN_PREFIX:
            attempts.append(to_fts(query, prefix_last=True))
        for match in attempts:
            found = await self._run(match, limit, theme)
            if found.total:
                return found
        corrected = await self._correct_typos(query)
        if corrected is not None:
            found = await self._run(to_fts(corrected), limit, theme)
            if found.total:
                return SearchResult(found.quotes, found.total, " ".join(corrected.terms))
        loose = corrected or query
        # Any-word matching on one- and two-letter words ("a", "c" of "c++") only adds noise.
        loose = replace(loose, terms=tuple(t for t in loose.terms if len(t) >= MIN_PREFIX))
        return await self._run(to_fts(loose, any_term=True), limit, theme)

    async def _run(self, match: str | None, limit: int, theme: str | None) -> SearchResult:
        if match is None:
            return SearchResult((), 0)
        quotes, total = await self.store.search(match, limit=limit, theme=theme)
        return SearchResult(tuple(quotes), total)

    async def _correct_typos(self, query: ParsedQuery) -> ParsedQuery | None:
        known = await self.store.known_words(query.terms)
        fixed = list(query.terms)
        for i, term in enumerate(query.terms):
            if term in known or len(term) < 3:
                continue
            shaped = await self.store.words_shaped_like(term)
            # Thousands of candidates on a big corpus: tens of milliseconds of CPU, kept off
            # the event loop so other commands are answered meanwhile.
            best = await asyncio.to_thread(difflib.get_close_matches, term, shaped, 1, TYPO_CUTOFF)
            if best:
                fixed[i] = best[0]
        if fixed == list(query.terms):
            return None
        return replace(query, terms=tuple(fixed))

    def themes_matching(self, text: str) -> list[tuple[ThemeInfo, str]]:
        """Themes any of whose names starts with `text` (all when it is empty), in corpus order,
        each with the name to suggest: the alias typed, else the slug."""
        typed = normalise_name(text)
        return [
            (info, next((a for a, name in aliases if name.startswith(typed)), info.theme.slug))
            for info, names, aliases in self._names
            if any(n.startswith(typed) for n in names)  # every name starts with ""
        ]

    async def autocomplete(self, text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Suggestion]:
        """Choices while typing: matching themes, then quotes whose topic matches, then quotes
        whose text does. Quotes come unranked, in corpus order (ranking a few letters' matches is
        too slow on a big corpus for every keystroke), once the last word has MIN_PREFIX letters."""
        choices = [
            Suggestion(f"{info.theme.title} ({info.count})", value)
            for info, value in self.themes_matching(text)
        ]
        query = parse_query(text)
        match = to_fts(query, prefix_last=True)
        still_short = bool(query.terms) and len(query.terms[-1]) < MIN_PREFIX
        if match is None or still_short:
            return choices[:limit]
        quotes = await self.store.first_matches(match, limit=limit, topic_only=True)
        if len(quotes) + len(choices) < limit:
            quotes += await self.store.first_matches(match, limit=limit)
        unique = {q.id: q for q in quotes}.values()  # a quote matching on its topic and text
        choices += [Suggestion(snippet(q), f"id {q.id}") for q in unique]
        return choices[:limit]


def day_index(day: date, count: int) -> int:
    """The position of `day`'s quote: sha256 of "YYYY-MM-DD" modulo the corpus size, so days
    spread over the corpus rather than walking it in order."""
    digest = hashlib.sha256(day.isoformat().encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def snippet(quote: Quote, width: int = 100) -> str:
    """A one-line preview at most `width` characters long (Discord's choice-name limit)."""
    line = " ".join(f"{quote.topic.removeprefix('On ')}: {quote.text}".split())
    return line if len(line) <= width else line[: width - 1].rstrip() + "\u2026"
