"""The quote tables' schema; `PRAGMA user_version` records which one a file has."""

from __future__ import annotations

# Created with their version in one transaction, so a crash leaves a file without them or
# with them, never between. Never edit a statement that has shipped: add a version.
QUOTE_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE themes (
                slug TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                position INTEGER NOT NULL,
                quote_count INTEGER NOT NULL
            )""",
    """CREATE TABLE theme_aliases (
                alias TEXT PRIMARY KEY,
                slug TEXT NOT NULL REFERENCES themes(slug) ON DELETE CASCADE
            )""",
    # position / theme_position are dense 0..n-1, so a random quote is one index lookup.
    """CREATE TABLE quotes (
                rowid INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                theme TEXT NOT NULL REFERENCES themes(slug),
                topic TEXT NOT NULL,
                source TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('quote', 'paraphrase')),
                text TEXT NOT NULL,
                position INTEGER NOT NULL UNIQUE,
                theme_position INTEGER NOT NULL,
                UNIQUE (theme, theme_position)
            )""",
    # Contentless: the text lives once, in `quotes`; the index only maps words to rowids.
    """CREATE VIRTUAL TABLE quotes_fts USING fts5(
                topic, theme_title, text,
                content='', tokenize='porter unicode61 remove_diacritics 2'
            )""",
    # Unstemmed words of the corpus, for "did you mean" on typos.
    """CREATE TABLE vocabulary (
                word TEXT PRIMARY KEY,
                first TEXT NOT NULL,
                length INTEGER NOT NULL
            ) WITHOUT ROWID""",
    "CREATE INDEX vocabulary_by_shape ON vocabulary (first, length)",
)
# Versions 2-10 created the shared state's tables in this file; they are Alembic's now
# (bot/storage/alembic, revision 0001 holds those steps). A file made since skips them.
LATEST_VERSION = 10
