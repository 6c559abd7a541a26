"""The database, diagnosed right: each way a real SQLite file can fail gets its own one line."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiosqlite
import pytest

from bot.cli import main
from bot.quotes.corpus import parse_corpus
from bot.quotes.service import QuoteService
from bot.quotes.store import sync_corpus
from bot.storage import connection
from bot.storage.connection import (
    LATEST_VERSION,
    QUOTE_TABLES,
    DatabaseError,
    connect,
    explained,
    migrate,
)
from tests.support.paths import CORPUS

SET_DAILY = ["daily", "set", "--platform", "console", "--channel", "general"]
SET_DAILY += ["--time", "09:00", "--tz", "Europe/Berlin"]
BAD_CORPUS = '[[themes]]\nslug = "dpo"\ntitle = "DPO"\n'


def _loaded(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """`db_path` with the real corpus loaded, closed cleanly (no -wal left)."""
    assert main(["ask", "--db", str(db_path)]) == 0
    capsys.readouterr()
    return db_path


def _state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime, to prove nothing was written."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _schedules(db_path: Path) -> int:
    """How many schedules the file holds: none before the shared state was first opened."""
    conn = sqlite3.connect(db_path)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE name = 'daily_schedules'"
        ).fetchone():
            return 0
        return int(conn.execute("SELECT count(*) FROM daily_schedules").fetchone()[0])
    finally:
        conn.close()


def _changed_corpus(tmp_path: Path) -> Path:
    changed = tmp_path / "changed.toml"
    changed.write_bytes(CORPUS.read_bytes() + b"\n# an edit\n")
    return changed


# --- locked by another process -----------------------------------------------------------


@pytest.fixture
def short_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 0.2 s busy_timeout: long enough to be a real wait, short enough for a test."""
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 200)


@pytest.fixture
def write_lock(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Another process's connection holding SQLite's write lock (BEGIN IMMEDIATE)."""
    _loaded(db_path, capsys)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


LOCKED = (
    "could not get the database lock: another process held it for more than 0.2 s. Nothing "
    "was changed; try again once it is done (another lambert, a backup or an open sqlite3 "
    "shell may be writing).\n"
)


@pytest.mark.usefixtures("short_lock_wait", "write_lock")
def test_a_locked_database_names_the_command_that_waited_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    assert main([*SET_DAILY, "--db", str(db_path)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"lambert: {db_path}: `lambert daily set` {LOCKED}"
    assert _schedules(db_path) == 0


@pytest.mark.usefixtures("short_lock_wait", "write_lock")
def test_a_locked_database_names_the_corpus_load_that_waited(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    changed = _changed_corpus(tmp_path)
    assert main(["ask", "--db", str(db_path), "--corpus", str(changed)]) == 1
    assert capsys.readouterr().err == f"lambert: {db_path}: loading the corpus {LOCKED}"


def test_the_lock_wait_is_bounded_by_the_configured_busy_timeout(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50)

    async def write_while_locked() -> None:
        async with connect(db_path) as conn:
            holder = sqlite3.connect(db_path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            try:
                with explained(db_path, "a test write"):
                    await conn.execute("BEGIN IMMEDIATE")
            finally:
                holder.execute("ROLLBACK")
                holder.close()

    with pytest.raises(DatabaseError) as raised:
        asyncio.run(write_while_locked())
    assert str(raised.value).startswith(
        f"{db_path}: a test write could not get the database lock: another process held it "
        "for more than 0.05 s. Nothing was changed;"
    )


# --- read-only file or folder -------------------------------------------------------------


# pytest must be able to remove tmp_path later.


def test_a_read_only_database_says_so_and_never_advises_a_restore(
    capsys: pytest.CaptureFixture[str], db_path: Path, make_read_only: object
) -> None:
    _loaded(db_path, capsys)
    before = _state(db_path.parent)
    make_read_only(db_path)  # type: ignore[operator]
    assert main(["ask", "dpo", "--db", str(db_path)]) == 0, "reading still works"
    capsys.readouterr()
    assert main([*SET_DAILY, "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"lambert: {db_path}: the database is read-only (attempt to write a readonly database), "
        "so `lambert daily set` could not write. Nothing was changed; give lambert write access "
        "to the file and its folder (SQLite writes -wal and -shm files beside it), or point "
        "LAMBERT_DB at a writable path.\n"
    )
    assert "backup" not in err
    assert _state(db_path.parent)[db_path.name] == before[db_path.name]


def test_a_read_only_folder_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make_read_only: object
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    make_read_only(folder)  # type: ignore[operator]
    db_path = folder / "lambert.db"
    assert main(["ask", "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"lambert: {db_path}: the folder {folder} is read-only, so opening the database could "
        "not create the database or its -wal and -shm files there. Nothing was changed; give "
        "lambert write access to that folder, or point LAMBERT_DB at a writable path.\n"
    )
    assert "backup" not in err


# --- disk full ------------------------------------------------------------------------------


def _bigger_corpus() -> str:
    text = CORPUS.read_text(encoding="utf-8")
    extra = "".join(
        f'\n[[quotes]]\nid = "filler-{n}"\ntheme = "careers"\ntopic = "Filler {n}"\n'
        f'source = "Test"\nkind = "paraphrase"\ntext = "Filler text number {n}, {"x" * 400}."\n'
        for n in range(300)
    )
    return text + extra


def test_a_full_disk_says_so_and_the_corpus_stays_as_it_was(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    _loaded(db_path, capsys)
    bigger = parse_corpus(_bigger_corpus(), "bigger.toml")

    async def load_onto_a_full_disk() -> int:
        async with connect(db_path) as conn:
            # The file may not grow by a page: SQLite answers SQLITE_FULL, as on a full disk.
            async with conn.execute("PRAGMA page_count") as cursor:
                (pages,) = await cursor.fetchone()  # type: ignore[misc]
            await conn.execute(f"PRAGMA max_page_count = {pages}")
            with pytest.raises(DatabaseError) as raised, explained(db_path, "loading the corpus"):
                await sync_corpus(conn, bigger, "digest")
            assert str(raised.value) == (
                f"{db_path}: the disk is full (SQLITE_FULL), so loading the corpus could not "
                "write. Nothing was changed; free space on that disk, or point LAMBERT_DB at "
                "another disk."
            )
            return len(await (await QuoteService.create(conn)).quotes())

    assert asyncio.run(load_onto_a_full_disk()) == 77


def test_a_full_disk_during_a_migration_is_the_error_reported_not_the_rollback(
    db_path: Path,
) -> None:
    async def migrate_onto_a_full_disk() -> sqlite3.Error:
        conn = await aiosqlite.connect(db_path, isolation_level=None)
        try:
            await conn.execute("PRAGMA max_page_count = 2")
            with pytest.raises(sqlite3.Error) as raised:
                await migrate(conn, db_path)
            async with conn.execute("PRAGMA user_version") as cursor:
                assert await cursor.fetchone() == (0,)
            return raised.value
        finally:
            await conn.close()

    error = asyncio.run(migrate_onto_a_full_disk())
    assert error.sqlite_errorname == "SQLITE_FULL"
    assert connection.explain(error, db_path, "migrating the schema") == (
        f"{db_path}: the disk is full (SQLITE_FULL), so migrating the schema could not write. "
        "Nothing was changed; free space on that disk, or point LAMBERT_DB at another disk."
    )


# --- corrupt pages --------------------------------------------------------------------------


def _corrupt_a_page(db_path: Path) -> None:
    """Garbage over the quotes table's root page; the header (page 1) stays valid."""
    conn = sqlite3.connect(db_path)
    try:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'quotes'"
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    assert root > 1
    with db_path.open("r+b") as file:
        file.seek((root - 1) * size)
        file.write(bytes(range(7, 250)) * (size // 243))


def _refusal(db_path: Path) -> str:
    """The refusal of a damaged file: SQLite either reports the damage or fails reading it."""
    conn = sqlite3.connect(connection.read_only_uri(db_path), uri=True)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        problem = "failed SQLite's integrity check (" + " ".join(str(result).split())
    except sqlite3.DatabaseError as exc:
        problem = f"not a usable SQLite database ({exc}"
    finally:
        conn.close()
    return (
        f"lambert: {db_path}: {problem}). It was left untouched; restore it from a backup or "
        "point LAMBERT_DB at a new file.\n"
    )


def test_corrupt_pages_are_refused_before_a_corpus_load_writes(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    _loaded(db_path, capsys)
    _corrupt_a_page(db_path)
    expected = _refusal(db_path)
    before = _state(db_path.parent)
    changed = _changed_corpus(tmp_path)
    assert main(["ask", "--db", str(db_path), "--corpus", str(changed)]) == 1
    assert capsys.readouterr().err == expected
    after = _state(db_path.parent)
    assert after[db_path.name] == before[db_path.name]


def test_corrupt_pages_are_refused_before_a_migration(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    _loaded(db_path, capsys)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION - 1}")  # a migration is pending
    conn.close()
    _corrupt_a_page(db_path)
    expected = _refusal(db_path)
    before = db_path.read_bytes()
    assert main(["ask", "--db", str(db_path)]) == 1
    assert capsys.readouterr().err == expected
    assert db_path.read_bytes() == before
    assert not Path(f"{db_path}-wal").exists(), "not converted to WAL"


@pytest.mark.parametrize(
    "argv",
    [
        ["daily", "set", "--platform", "console", "--channel", "general", "--time", "09:00",
         "--tz", "UTC"],
        ["daily", "off", "--platform", "console", "--channel", "general"],
    ],
    ids=["daily set", "daily off"],
)  # fmt: skip
def test_corrupt_pages_are_refused_before_a_command_that_writes(
    capsys: pytest.CaptureFixture[str], db_path: Path, argv: list[str]
) -> None:
    """The corpus is unchanged, so nothing loads: the command's own write is what is guarded."""
    _loaded(db_path, capsys)
    _corrupt_a_page(db_path)
    expected = _refusal(db_path)
    before = db_path.read_bytes()
    assert main([*argv, "--db", str(db_path)]) == 1
    assert capsys.readouterr().err == expected
    assert db_path.read_bytes() == before


# --- refused files are never written --------------------------------------------------------


def test_a_newer_file_is_not_checkpointed_when_it_is_refused(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    _loaded(db_path, capsys)
    # A newer lambert's last write still in the WAL, not yet in the file: what a copy of a
    # live (or crashed) newer installation looks like.
    live = sqlite3.connect(db_path, isolation_level=None)
    live.execute("PRAGMA wal_autocheckpoint = 0")
    live.execute("PRAGMA user_version = 99")
    live.execute("INSERT INTO meta (key, value) VALUES ('newer', 'yes')")
    refused = tmp_path / "copy"
    refused.mkdir()
    shutil.copy(db_path, refused / "lambert.db")
    shutil.copy(f"{db_path}-wal", refused / "lambert.db-wal")
    live.close()
    copy = refused / "lambert.db"
    before = _state(refused)
    assert main(["ask", "--db", str(copy)]) == 1
    assert capsys.readouterr().err == (
        f"lambert: {copy}: schema version 99 is newer than this lambert understands "
        f"({LATEST_VERSION}). Upgrade lambert, or point LAMBERT_DB at another file; the file "
        "was not changed.\n"
    )
    after = _state(refused)
    for name in ("lambert.db", "lambert.db-wal"):
        assert after[name] == before[name], f"{name} was written"


def test_a_bad_corpus_never_creates_the_database(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CORPUS, encoding="utf-8")
    assert main(["ask", "--db", str(db_path), "--corpus", str(bad)]) == 1
    assert capsys.readouterr().err == (
        f"lambert: {bad}: no [[quotes]] entries — add at least one [[quotes]] table\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_a_bad_corpus_never_migrates_or_converts_an_old_database(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    old = sqlite3.connect(db_path, isolation_level=None)  # rollback journal, version 1
    for statement in QUOTE_TABLES:
        old.execute(statement)
    old.execute("PRAGMA user_version = 1")
    old.close()
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CORPUS, encoding="utf-8")
    before = _state(tmp_path)
    assert main(["ask", "--db", str(db_path), "--corpus", str(bad)]) == 1
    assert "no [[quotes]] entries" in capsys.readouterr().err
    assert _state(tmp_path) == before, "no -wal, no migration, not a byte changed"


def test_an_unchanged_corpus_file_is_not_parsed_again(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    _loaded(db_path, capsys)
    # Make the database believe this broken file is the one it loaded: if the start parsed
    # it, it would fail; it must trust the digest and serve what it holds.
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CORPUS, encoding="utf-8")
    digest = hashlib.sha256(bad.read_bytes()).hexdigest()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'corpus_file'", (digest,))
    conn.close()
    assert main(["ask", "dpo", "--db", str(db_path), "--corpus", str(bad)]) == 0
    assert "DPO" in capsys.readouterr().out


def test_a_database_path_under_a_regular_file_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "somefile.txt"
    blocker.write_text("notes")
    db_path = blocker / "lambert.db"
    assert main(["ask", "--db", str(db_path)]) == 1
    assert capsys.readouterr().err == (
        f"lambert: {db_path}: cannot hold the database: {blocker} is a file, not a folder. "
        "Point LAMBERT_DB (or --db) at a path inside a folder.\n"
    )
    assert blocker.read_text() == "notes"
