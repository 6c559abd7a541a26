"""Writing the quote tables: the corpus replaced in one transaction, and the `meta` values."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiosqlite

from bot.quotes.search import distinct_words
from bot.storage.connection import rollback

if TYPE_CHECKING:
    from bot.quotes.corpus import Corpus

# Told (quotes written, of total) as a corpus loads; total 0 while the file is still parsed.
Progress = Callable[[int, int], None]
# The quote rows go in this many batches, so that a progress callback hears of each tenth.
BATCHES = 20
Rows = list[tuple[object, ...]]


def _corpus_rows(corpus: Corpus) -> tuple[Rows, Rows, Rows, Rows]:
    """The rows of themes, theme_aliases, quotes and quotes_fts."""
    titles = {t.slug: t.title for t in corpus.themes}
    counts = dict.fromkeys(titles, 0)
    quotes: Rows = []
    fts: Rows = []
    for rowid, q in enumerate(corpus.quotes, start=1):
        n = counts[q.theme]  # its position in its theme
        quotes.append((rowid, q.id, q.theme, q.topic, q.source, q.kind.value, q.text, rowid - 1, n))
        counts[q.theme] += 1
        fts.append((rowid, q.topic, titles[q.theme], q.text))
    themes: Rows = [(t.slug, t.title, i, counts[t.slug]) for i, t in enumerate(corpus.themes)]
    aliases: Rows = [(alias, t.slug) for t in corpus.themes for alias in t.aliases]
    return themes, aliases, quotes, fts


def _vocabulary_rows(fts: Rows) -> Rows:
    vocabulary = distinct_words(f"{topic} {title} {text}" for _, topic, title, text in fts)
    return [(w, w[0], len(w)) for w in sorted(vocabulary)]


async def meta(conn: aiosqlite.Connection, key: str) -> str | None:
    """The `meta` value for `key` ("corpus_file": the sha256 of the corpus file as last loaded)."""
    rows = list(await conn.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,)))
    return str(rows[0][0]) if rows else None


async def set_meta(conn: aiosqlite.Connection, values: dict[str, str]) -> None:
    await conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        values.items(),
    )


async def sync_corpus(
    conn: aiosqlite.Connection,
    corpus: Corpus,
    file_digest: str = "",
    progress: Progress | None = None,
) -> bool:
    """Make the quote tables hold `corpus`; False when they already did. Schedules and post
    history refer to quote ids as plain text, so replacing quotes never cascades into them; an
    edit to comments or spacing changes the file digest, not the fingerprint: no rewrite."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        changed = await meta(conn, "corpus") != corpus.fingerprint
        values = {"corpus_file": file_digest}
        if changed:
            await _replace(conn, corpus, progress or (lambda done, total: None))
            values["corpus"] = corpus.fingerprint
        await set_meta(conn, values)
        await conn.execute("COMMIT")
    except BaseException:
        await rollback(conn)  # never hides the error that brought us here
        raise
    return changed


async def _replace(conn: aiosqlite.Connection, corpus: Corpus, progress: Progress) -> None:
    total = len(corpus.quotes)
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
