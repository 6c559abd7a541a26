"""The one API adapters and the grammar call: themes, random quotes, look-ups and search."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import aiosqlite

from bot.quotes.models import Kind, Quote, Theme, ThemeInfo, Themes
from bot.quotes.search import (
    ParsedQuery,
    clean_user_text,
    parse_query,
    to_fts,
    words,
)

AUTOCOMPLETE_LIMIT = 25  # Discord's ceiling for autocomplete choices
TYPO_CUTOFF = 0.75
MIN_PREFIX = 3  # "c" as a prefix matches half the corpus: that is noise, not a search
ID_CANDIDATES = 500  # ids difflib compares for "did you mean": a few milliseconds at most

# The columns are Quote's fields, in order.
_QUOTE_COLUMNS = (
    "q.id, q.text, q.kind, q.theme, t.title AS theme_title, q.topic, q.source "
    "FROM quotes q JOIN themes t ON t.slug = q.theme"
)
# Topic and theme title outweigh body text: `/lambert reward hacking` should land on the
# entry *about* reward hacking before one that merely mentions a reward.
_RANK = "bm25(quotes_fts, 4.0, 3.0, 1.0)"


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


class QuoteService(Themes):
    """Answers from the quote tables of one open connection: `await QuoteService.create(conn)`."""

    def __init__(
        self, conn: aiosqlite.Connection, themes: list[ThemeInfo], rng: random.Random
    ) -> None:
        self.conn = conn
        self._rng = rng
        self._ids: dict[str | None, tuple[str, ...]] | None = None  # load_ids
        super().__init__(themes)

    @classmethod
    async def create(
        cls, conn: aiosqlite.Connection, rng: random.Random | None = None
    ) -> QuoteService:
        """Every theme with its aliases and number of quotes, in corpus order, read once."""
        aliases: dict[str, list[str]] = {}
        # rowid order is the corpus file's order: its first alias is the one to suggest.
        sql = "SELECT alias, slug FROM theme_aliases ORDER BY rowid"
        for alias, slug in await conn.execute_fetchall(sql):
            aliases.setdefault(slug, []).append(alias)
        sql = "SELECT slug, title, quote_count FROM themes ORDER BY position"
        rows = await conn.execute_fetchall(sql)
        themes = [ThemeInfo(Theme(s, t, tuple(aliases.get(s, ()))), n) for s, t, n in rows]
        return cls(conn, themes, rng or random.Random())  # noqa: S311 (not for secrets)

    async def _rows(self, sql: str, args: Sequence[object] = ()) -> list[aiosqlite.Row]:
        # One trip to aiosqlite's thread, where execute + fetch + close would take three: each
        # trip costs ~0.1 ms, most of a lookup's time (docs/performance.md).
        return list(await self.conn.execute_fetchall(sql, args))

    async def _quotes(self, where: str, args: Sequence[object]) -> list[Quote]:
        rows = await self._rows(f"SELECT {_QUOTE_COLUMNS} {where}", args)
        return [Quote(r[0], r[1], Kind(r[2]), *r[3:]) for r in rows]

    async def _quote_at(self, index: int, theme: str | None = None) -> Quote | None:
        """The quote at dense position `index` of the corpus, or of one theme."""
        column, where, args = _scope(theme)
        return next(iter(await self._quotes(f"WHERE {where}q.{column} = ?", (*args, index))), None)

    async def load_ids(self) -> None:
        """Read every quote's id once, for `ids` (the daily shuffle bag draws from them)."""
        if self._ids is None:
            self._ids = {}
            for theme in [None, *(info.theme.slug for info in self._themes)]:
                where, args = (" WHERE theme = ?", (theme,)) if theme else ("", ())
                rows = await self._rows(f"SELECT id FROM quotes{where} ORDER BY position", args)
                # A comprehension, not a loop of appends: no call per row on the event loop.
                self._ids[theme] = tuple([row[0] for row in rows])

    def ids(self, theme: str | None = None) -> tuple[str, ...]:
        """The quote ids of the corpus or of one theme, in corpus order; `load_ids` first."""
        assert self._ids is not None, "load_ids first"
        return self._ids.get(theme, ())

    async def knows_word(self, text: str) -> bool:
        """Whether every word of `text` occurs in the corpus: such text is meant, not a slip."""
        found = words(text)
        return bool(found) and set(found) <= await self._known_words(found)

    async def _known_words(self, candidates: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(candidates))
        marks = ",".join("?" * len(wanted))
        rows = await self._rows(f"SELECT word FROM vocabulary WHERE word IN ({marks})", wanted)
        return {row[0] for row in rows}

    async def quote(self, quote_id: str) -> Quote | None:
        found = await self._quotes("WHERE q.id = ?", (clean_user_text(quote_id).casefold(),))
        return next(iter(found), None)

    async def close_ids(self, typed: str) -> list[str]:
        """The three ids most like `typed` among those sharing its start: an id is typed from one
        seen in chat, so a slip is rarely in its first letters, and difflib compares few ids."""
        candidates: list[str] = []
        for length in (3, 1):
            if len(typed) >= length and not candidates:
                start = typed[:length]  # a range on the id index
                sql = "SELECT id FROM quotes WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"
                rows = await self._rows(sql, (start, start + "\uffff", ID_CANDIDATES))
                candidates = [row[0] for row in rows]
        return difflib.get_close_matches(typed, candidates, n=3, cutoff=0.6)

    async def quotes(
        self, theme: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[Quote]:
        """Quotes of the corpus or a theme in corpus order: `limit` (None: all) from `offset`."""
        column, where, args = _scope(theme)
        return await self._quotes(
            f"WHERE {where}q.{column} >= ? ORDER BY q.{column} LIMIT ?",
            (*args, offset, -1 if limit is None else limit),
        )

    async def of_the_day(self, day: date) -> Quote | None:
        """The quote of the (UTC) day: the same everywhere all day (the web site, its feed,
        Slack's Home tab), stored nowhere; None for an empty corpus."""
        count = self.count()
        return await self._quote_at(day_index(day, count)) if count else None

    async def random_quote(
        self, theme: str | None = None, exclude: str | None = None
    ) -> Quote | None:
        """A random quote of the corpus or a theme; never `exclude` unless it is the only one."""
        count = self.count(theme)
        if count == 0:
            return None
        skip = None
        if exclude and count > 1:
            sql = f"SELECT {_scope(theme)[0]} FROM quotes WHERE id = ?"
            skip = next((int(row[0]) for row in await self._rows(sql, (exclude,))), None)
        index = self._rng.randrange(count - (skip is not None))
        if skip is not None and index >= skip:
            index += 1
        return await self._quote_at(index, theme)

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
        """The best `limit` quotes for an FTS5 `match` expression, and how many match in all."""
        if match is None:
            return SearchResult((), 0)
        where = "quotes_fts MATCH ?" + (" AND q.theme = ?" if theme else "")
        args: Sequence[object] = (match, theme) if theme else (match,)
        quotes = await self._quotes(
            f"JOIN quotes_fts f ON f.rowid = q.rowid WHERE {where} ORDER BY {_RANK} LIMIT ?",
            (*args, limit),
        )
        if len(quotes) < limit:
            return SearchResult(tuple(quotes), len(quotes))
        # Every indexed row is a quote, so without a theme the index alone can count.
        sql = (
            f"SELECT count(*) FROM quotes q JOIN quotes_fts f ON f.rowid = q.rowid WHERE {where}"
            if theme
            else "SELECT count(*) FROM quotes_fts WHERE quotes_fts MATCH ?"
        )
        total = await self._rows(sql, args)
        return SearchResult(tuple(quotes), int(total[0][0]) if total else len(quotes))

    async def _correct_typos(self, query: ParsedQuery) -> ParsedQuery | None:
        known = await self._known_words(query.terms)
        fixed = list(query.terms)
        for i, term in enumerate(query.terms):
            if term in known or len(term) < 3:
                continue
            # Corpus words with the same first letter and a length one off at most: one slip
            # (a letter dropped, doubled, swapped or wrong) changes the length by at most one.
            sql = "SELECT word FROM vocabulary WHERE first = ? AND length BETWEEN ? AND ?"
            rows = await self._rows(sql, (term[0], len(term) - 1, len(term) + 1))
            shaped = [row[0] for row in rows]
            # Thousands of candidates on a big corpus: tens of milliseconds of CPU, kept off
            # the event loop so other commands are answered meanwhile.
            best = await asyncio.to_thread(difflib.get_close_matches, term, shaped, 1, TYPO_CUTOFF)
            if best:
                fixed[i] = best[0]
        return None if fixed == list(query.terms) else replace(query, terms=tuple(fixed))

    async def autocomplete(self, text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Suggestion]:
        """Choices while typing: matching themes, then quotes whose topic matches, then quotes
        whose text does, once the last word has MIN_PREFIX letters. Quotes come unranked, the
        first in corpus order: ranking a short prefix's matches (tens of thousands at 100,000
        quotes) took 100 ms; taking the first takes a few (docs/performance.md)."""
        choices = [
            Suggestion(f"{info.theme.title} ({info.count})", value)
            for info, value in self.themes_matching(text)
        ]
        query = parse_query(text)
        match = to_fts(query, prefix_last=True)
        still_short = bool(query.terms) and len(query.terms[-1]) < MIN_PREFIX
        if match is None or still_short:
            return choices[:limit]
        first = (
            "WHERE q.rowid IN (SELECT rowid FROM quotes_fts WHERE quotes_fts MATCH ? LIMIT ?) "
            "ORDER BY q.rowid"
        )
        quotes = await self._quotes(first, (f"{{topic}} : ({match})", limit))
        if len(quotes) + len(choices) < limit:
            quotes += await self._quotes(first, (match, limit))
        unique = {q.id: q for q in quotes}.values()  # a quote matching on its topic and text
        choices += [Suggestion(snippet(q), f"id {q.id}") for q in unique]
        return choices[:limit]


def _scope(theme: str | None) -> tuple[str, str, tuple[object, ...]]:
    """The position column, filter and its argument for the whole corpus or one theme."""
    return ("theme_position", "q.theme = ? AND ", (theme,)) if theme else ("position", "", ())


def day_index(day: date, count: int) -> int:
    """The position of `day`'s quote: sha256 of "YYYY-MM-DD" modulo the corpus size, so days
    spread over the corpus rather than walking it in order."""
    digest = hashlib.sha256(day.isoformat().encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def snippet(quote: Quote, width: int = 100) -> str:
    """A one-line preview at most `width` characters long (Discord's choice-name limit)."""
    line = " ".join(f"{quote.topic.removeprefix('On ')}: {quote.text}".split())
    return line if len(line) <= width else line[: width - 1].rstrip() + "\u2026"
