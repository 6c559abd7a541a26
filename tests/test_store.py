"""The SQLite file: migrations, pragmas, idempotent corpus loads, and refusal of unusable files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.quotes.corpus import CorpusError, read_corpus
from bot.quotes.service import QuoteService
from bot.quotes.store import sync_corpus
from bot.runtime import open_core
from bot.storage.connection import LATEST_VERSION, DatabaseError, connect
from tests.support.paths import CORPUS


def _settings(db: Path, corpus: Path = CORPUS) -> Settings:
    return load_settings({}, db_path=db, corpus_path=corpus)


async def test_a_new_file_is_migrated_with_wal_and_foreign_keys(db_path: Path) -> None:
    async with connect(db_path) as conn:
        pragmas = {}
        for name in ("user_version", "journal_mode", "foreign_keys", "busy_timeout"):
            async with conn.execute(f"PRAGMA {name}") as cur:
                row = await cur.fetchone()
                assert row is not None
                pragmas[name] = row[0]
    assert pragmas == {
        "user_version": LATEST_VERSION,
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }


async def test_the_corpus_is_loaded_once_and_not_rewritten_when_unchanged(db_path: Path) -> None:
    corpus = read_corpus(CORPUS)
    async with connect(db_path) as conn:
        assert await sync_corpus(conn, corpus, "digest-1") is True
        before = conn.total_changes
        assert await sync_corpus(conn, corpus, "digest-1") is False
        # Only the meta row for the file digest is rewritten, never the quotes.
        assert conn.total_changes - before <= 1
        assert len(await (await QuoteService.create(conn)).quotes()) == len(corpus.quotes)


async def test_a_comment_only_edit_does_not_reload_quotes(tmp_path: Path, db_path: Path) -> None:
    edited = tmp_path / "corpus.toml"
    edited.write_text(CORPUS.read_text(encoding="utf-8") + "\n# a new comment\n", "utf-8")
    async with open_core(_settings(db_path)):
        pass
    async with connect(db_path) as conn:
        rowids = await (await conn.execute("SELECT group_concat(rowid) FROM quotes")).fetchone()
        assert await sync_corpus(conn, read_corpus(edited), "other-digest") is False
        after = await (await conn.execute("SELECT group_concat(rowid) FROM quotes")).fetchone()
    assert tuple(rowids or ()) == tuple(after or ())


async def test_a_changed_corpus_replaces_quotes_and_leaves_other_tables(
    tmp_path: Path, db_path: Path
) -> None:
    async with open_core(_settings(db_path)) as core:
        assert await core.quotes.quote("reward-hacking") is not None
        await core.quotes.conn.execute("CREATE TABLE keepsake (note TEXT)")
        await core.quotes.conn.execute("INSERT INTO keepsake VALUES ('history row')")
    smaller = tmp_path / "smaller.toml"
    text = CORPUS.read_text(encoding="utf-8")
    cut = text.index('id = "reward-hacking"')
    start = text.rindex("[[quotes]]", 0, cut)
    end = text.index("[[quotes]]", cut)
    smaller.write_text(text[:start] + text[end:], encoding="utf-8")
    async with open_core(_settings(db_path, smaller)) as core:
        assert await core.quotes.quote("reward-hacking") is None
        assert core.quotes.count() == 76
        reply = await core.quotes.search("sycophancy")
        assert all(q.id != "reward-hacking" for q in reply.quotes)
        async with core.quotes.conn.execute("SELECT note FROM keepsake") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["history row"]


async def test_a_bad_corpus_stops_start_up_and_leaves_the_database(
    tmp_path: Path, db_path: Path
) -> None:
    async with open_core(_settings(db_path)):
        pass
    before = db_path.read_bytes()
    broken = tmp_path / "broken.toml"
    broken.write_text(
        CORPUS.read_text(encoding="utf-8").replace('theme = "careers"', 'theme = "carers"', 1),
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as err:
        async with open_core(_settings(db_path, broken)):
            pytest.fail("a bad corpus must not open")
    message = str(err.value)
    assert "broken.toml" in message and "carers" in message
    assert db_path.read_bytes() == before


async def test_a_missing_corpus_names_the_file_and_the_fix(tmp_path: Path, db_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"missing\.toml.*LAMBERT_CORPUS"):
        async with open_core(_settings(db_path, tmp_path / "missing.toml")):
            pass


async def test_a_database_from_a_newer_lambert_is_refused_untouched(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseError, match=r"newer than this lambert"):
        async with connect(db_path):
            pass
    assert db_path.read_bytes() == before


async def test_a_file_that_is_not_a_database_is_refused_untouched(db_path: Path) -> None:
    db_path.write_bytes(b"this is not sqlite " * 100)
    with pytest.raises(DatabaseError, match=r"lambert\.db: not a usable SQLite database"):
        async with connect(db_path):
            pass
    assert db_path.read_bytes() == b"this is not sqlite " * 100


async def test_a_corrupt_page_fails_the_integrity_check(db_path: Path) -> None:
    async with open_core(_settings(db_path)):
        pass
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db_path.read_bytes())
    for offset in range(page_size * 3, min(len(data), page_size * 6)):
        data[offset] = 0xFF  # scribble over interior pages, keep the header
    db_path.write_bytes(bytes(data))
    with pytest.raises(DatabaseError, match=r"lambert\.db"):
        async with connect(db_path, integrity_check=True):
            pass
