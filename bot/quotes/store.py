"""The quote tables: replacing the corpus in one transaction, and every read the service needs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import aiosqlite

from bot.quotes.models import Kind, Quote, Theme
from bot.quotes.search import distinct_words
from bot.storage.connection import rollback

if TYPE_CHECKING:
    from bot.quotes.corpus import Corpus

# Told (quotes written, of total) as a corpus loads; total 0 while the file is still parsed.
Progress = Callable[[int, int], None]
# The quote rows go in this many batches, so that a progress callback hears of each tenth.
BATCHES = 20

_QUOTE_COLUMNS = (
    "q.id, q.text, q.kind, q.theme, t.title AS theme_title, q.topic, q.source "
    "FROM quotes q JOIN themes t ON t.slug = q.theme"
)
# Topic and theme title outweigh body text: `/lambert reward hacking` should land on the
# entry *about* reward hacking before one that merely mentions a reward.
_RANK = "bm25(quotes_fts, 4.0, 3.0, 1.0)"
Rows = list[tuple[object, ...]]


def _quote(row: aiosqlite.Row) -> Quote:
    # The columns of _QUOTE_COLUMNS are Quote's fields, in order.
    return Quote(row[0], row[1], Kind(row[2]), *row[3:])


def _scope(theme: str | None) -> tuple[str, str, tuple[object, ...]]:
    """The position column, filter and its argument for the whole corpus or one theme."""
    return ("theme_position", "q.theme = ? AND ", (theme,)) if theme else ("position", "", ())


def _corpus_rows(corpus: Corpus) -> tuple[Rows, Rows, Rows, Rows]:
    """The rows of themes, theme_aliases, quotes and quotes_fts."""
    titles = {t.slug: t.title for t in corpus.themes}
    counts = dict.fromkeys(titles, 0)
    quotes: Rows = []
    fts: Rows = []
    for rowid, q in enumerate(corpus.quotes, start=1):
        quotes.append(
            (
                rowid,
                q.id,
                q.theme,
                q.topic,
                q.source,
                q.kind.value,
                q.text,
                rowid - 1,
                counts[q.theme],
            )
        )
        counts[q.theme] += 1
        fts.append((rowid, q.topic, titles[q.theme], q.text))
    themes: Rows = [(t.slug, t.title, i, counts[t.slug]) for i, t in enumerate(corpus.themes)]
    aliases: Rows = [(alias, t.slug) for t in corpus.themes for alias in t.aliases]
    return themes, aliases, quotes, fts


def _vocabulary_rows(fts: Rows) -> Rows:
    vocabulary = distinct_words(f"{topic} {title} {text}" for _, topic, title, text in fts)
    return [(w, w[0], len(w)) for w in sorted(vocabulary)]


class QuoteStore:
    """Reads and replaces the corpus tables of one open connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _rows(self, sql: str, args: Sequence[object] = ()) -> list[aiosqlite.Row]:
        # One trip to aiosqlite's thread, where execute + fetch + close would take three: each
        # trip costs ~0.1 ms, most of a lookup's time (docs/performance.md).
        return list(await self.conn.execute_fetchall(sql, args))

    async def _meta(self, key: str) -> str | None:
        rows = await self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def _set_meta(self, key: str, value: str) -> None:
        await self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def corpus_file_digest(self) -> str | None:
        """The sha256 of the corpus file's bytes as last loaded."""
        return await self._meta("corpus_file")

    async def sync_corpus(
        self, corpus: Corpus, file_digest: str = "", progress: Progress | None = None
    ) -> bool:
        """Make the quote tables hold `corpus`; return False when they already did.

        Only quote tables are touched: schedules and post history refer to quote ids as plain
        text, so replacing quotes never cascades into them. An edit to comments or spacing
        changes the file digest, not the fingerprint: it is recorded without a rewrite.
        """
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            # The fingerprint of the corpus content the tables hold (bot/quotes/corpus.py).
            changed = await self._meta("corpus") != corpus.fingerprint
            if changed:
                await self._replace(corpus, progress or (lambda done, total: None))
                await self._set_meta("corpus", corpus.fingerprint)
            await self._set_meta("corpus_file", file_digest)
            await self.conn.execute("COMMIT")
        except BaseException:
            await rollback(self.conn)  # never hides the error that brought us here
            raise
        return changed

    async def _replace(self, corpus: Corpus, progress: Progress) -> None:
        conn, total = self.conn, len(corpus.quotes)
        progress(0, total)
        # Building the rows is Python work over every quote: off the loop.
        themes, aliases, quotes, fts = await asyncio.to_thread(_corpus_rows, corpus)
        # The vocabulary is Python work and the inserts mostly SQLite's (which lets go of the
        # GIL): on two cores they overlap, over a second off loading 100,000 quotes.
        vocabulary = asyncio.ensure_future(asyncio.to_thread(_vocabulary_rows, fts))
        try:
            await conn.execute("INSERT INTO quotes_fts (quotes_fts) VALUES ('delete-all')")
            for table in ("vocabulary", "quotes", "theme_aliases", "themes"):
                await conn.execute(f"DELETE FROM {table}")
            await conn.executemany(
                "INSERT INTO themes (slug, title, position, quote_count) VALUES (?, ?, ?, ?)",
                themes,
            )
            await conn.executemany("INSERT INTO theme_aliases (alias, slug) VALUES (?, ?)", aliases)
            step = max(1, -(-total // BATCHES))
            for start in range(0, total, step):
                await conn.executemany(
                    "INSERT INTO quotes (rowid, id, theme, topic, source, kind, text, position, "
                    "theme_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    quotes[start : start + step],
                )
                await conn.executemany(
                    "INSERT INTO quotes_fts (rowid, topic, theme_title, text) VALUES (?, ?, ?, ?)",
                    fts[start : start + step],
                )
                if start + step < total:  # the last batch is told once the vocabulary is in
                    progress(start + step, total)
            await conn.executemany(
                "INSERT INTO vocabulary (word, first, length) VALUES (?, ?, ?)", await vocabulary
            )
        finally:
            vocabulary.cancel()  # only on failure: the thread finishes, its result is dropped
        progress(total, total)

    async def themes(self) -> list[tuple[Theme, int]]:
        """Every theme with its aliases and number of quotes, in corpus order."""
        aliases: dict[str, list[str]] = {}
        # rowid order is the corpus file's order: its first alias is the one to suggest.
        for alias, slug in await self._rows("SELECT alias, slug FROM theme_aliases ORDER BY rowid"):
            aliases.setdefault(slug, []).append(alias)
        rows = await self._rows("SELECT slug, title, quote_count FROM themes ORDER BY position")
        return [(Theme(slug, title, tuple(aliases.get(slug, ()))), n) for slug, title, n in rows]

    async def _quotes(self, where: str, args: Sequence[object]) -> list[Quote]:
        return [_quote(row) for row in await self._rows(f"SELECT {_QUOTE_COLUMNS} {where}", args)]

    async def quote_by_id(self, quote_id: str) -> Quote | None:
        return next(iter(await self._quotes("WHERE q.id = ?", (quote_id,))), None)

    async def quote_at(self, index: int, theme: str | None = None) -> Quote | None:
        """The quote at dense position `index` of the corpus, or of one theme."""
        column, where, args = _scope(theme)
        return next(iter(await self._quotes(f"WHERE {where}q.{column} = ?", (*args, index))), None)

    async def quotes_in_order(
        self, theme: str | None, offset: int = 0, limit: int | None = None
    ) -> list[Quote]:
        """Quotes of the corpus or of one theme in corpus order, `limit` (None: all) from
        `offset`."""
        column, where, args = _scope(theme)
        return await self._quotes(
            f"WHERE {where}q.{column} >= ? ORDER BY q.{column} LIMIT ?",
            (*args, offset, -1 if limit is None else limit),
        )

    async def position_of(self, quote_id: str, theme: str | None) -> int | None:
        rows = await self._rows(f"SELECT {_scope(theme)[0]} FROM quotes WHERE id = ?", (quote_id,))
        return int(rows[0][0]) if rows else None

    async def quote_ids(self, theme: str | None = None) -> list[str]:
        sql = "SELECT id FROM quotes" + (" WHERE theme = ?" if theme else "") + " ORDER BY position"
        return [row[0] for row in await self._rows(sql, (theme,) if theme else ())]

    async def ids_starting_with(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` quote ids that start with `prefix`: a range on the id index."""
        rows = await self._rows(
            "SELECT id FROM quotes WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )
        return [row[0] for row in rows]

    async def search(
        self, match: str, *, limit: int, theme: str | None = None, count: bool = True
    ) -> tuple[list[Quote], int]:
        """The best `limit` quotes for an FTS5 `match` expression, and how many match in all.

        With `count=False` the total is only how many were returned: counting is a second pass
        over every match, on a big corpus as slow as the ranking itself.
        """
        where = "quotes_fts MATCH ?" + (" AND q.theme = ?" if theme else "")
        args: Sequence[object] = (match, theme) if theme else (match,)
        quotes = await self._quotes(
            f"JOIN quotes_fts f ON f.rowid = q.rowid WHERE {where} ORDER BY {_RANK} LIMIT ?",
            (*args, limit),
        )
        if len(quotes) < limit or not count:
            return quotes, len(quotes)
        # Every indexed row is a quote, so without a theme the index alone can count.
        sql = (
            f"SELECT count(*) FROM quotes q JOIN quotes_fts f ON f.rowid = q.rowid WHERE {where}"
            if theme
            else "SELECT count(*) FROM quotes_fts WHERE quotes_fts MATCH ?"
        )
        total = await self._rows(sql, args)
        return quotes, int(total[0][0]) if total else len(quotes)

    async def first_matches(
        self, match: str, *, limit: int, topic_only: bool = False
    ) -> list[Quote]:
        """The first `limit` quotes for an FTS5 `match` in corpus order, unranked: for text
        still being typed. Ranking a short prefix's matches (tens of thousands at 100,000
        quotes) took 100 ms; taking the first is a few ms (docs/performance.md)."""
        if topic_only:
            match = f"{{topic}} : ({match})"
        return await self._quotes(
            "WHERE q.rowid IN (SELECT rowid FROM quotes_fts WHERE quotes_fts MATCH ? LIMIT ?) "
            "ORDER BY q.rowid",
            (match, limit),
        )

    async def known_words(self, candidates: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(candidates))
        marks = ",".join("?" * len(wanted))
        rows = await self._rows(f"SELECT word FROM vocabulary WHERE word IN ({marks})", wanted)
        return {row[0] for row in rows}

    async def words_shaped_like(self, word: str, spread: int = 1) -> list[str]:
        """Corpus words with the same first letter and a similar length: typo candidates.

        One slip (a letter dropped, doubled, swapped or wrong) changes the length by at most
        one; a wider spread triples the candidates on a big corpus for few extra finds.
        """
        rows = await self._rows(
            "SELECT word FROM vocabulary WHERE first = ? AND length BETWEEN ? AND ?",
            (word[0], len(word) - spread, len(word) + spread),
        )
        return [row[0] for row in rows]
