"""Operator commands: `lambert health` and `lambert backup`, on real database files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.cli import main
from bot.serving.health import STALE_AFTER_SECONDS, record_heartbeats
from bot.storage.connection import connect
from tests.support.postgres_cli import PASSWORD, with_password


def _quote_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM quotes").fetchone()[0])
    finally:
        conn.close()


def test_health_is_ok_on_a_sound_database_with_no_platforms(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    assert main(["ask", "dpo", "--db", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["health", "--db", str(db_path)]) == 0
    assert "database: ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("age", "status", "words"),
    [(None, 1, "never connected"), (5.0, 0, "discord: connected"), (1e6, 1, "NOT connected")],
)
def test_health_needs_a_fresh_heartbeat_from_each_platform(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db_path: Path,
    age: float | None,
    status: int,
    words: str,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "canary-discord-token")

    async def beat() -> None:
        async with connect(db_path) as conn:
            if age is not None:
                await record_heartbeats(conn, ["discord"], now=time.time() - age)

    asyncio.run(beat())
    assert main(["health", "--db", str(db_path)]) == status
    out = capsys.readouterr().out
    assert words in out
    assert "canary-discord-token" not in out
    assert age is None or age < STALE_AFTER_SECONDS or status == 1


def test_health_fails_on_a_corrupt_database(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    db_path.write_bytes(b"garbage" * 1000)
    assert main(["health", "--db", str(db_path)]) == 1
    assert "lambert.db" in capsys.readouterr().err
    assert db_path.read_bytes() == b"garbage" * 1000


def test_backup_copies_a_database_that_is_being_written(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    assert main(["ask", "--db", str(db_path)]) == 0
    writer = sqlite3.connect(db_path)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER)")
    writer.execute("BEGIN")
    writer.execute("INSERT INTO scratch VALUES (1)")  # uncommitted: must not be in the copy
    try:
        target = tmp_path / "backups" / "copy.db"
        target.parent.mkdir()
        assert main(["backup", str(target), "--db", str(db_path)]) == 0
    finally:
        writer.rollback()
        writer.close()
    assert _quote_count(target) == _quote_count(db_path) == 77
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*) FROM scratch").fetchone()[0] == 0
    copy.close()


def test_backup_never_overwrites_without_force(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    assert main(["ask", "--db", str(db_path)]) == 0
    target = tmp_path / "copy.db"
    target.write_bytes(b"precious")
    assert main(["backup", str(target), "--db", str(db_path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == b"precious"
    assert main(["backup", str(target), "--force", "--db", str(db_path)]) == 0
    assert _quote_count(target) == 77


def test_backup_of_a_missing_database_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["backup", str(tmp_path / "x.db"), "--db", str(tmp_path / "none.db")]) == 1
    assert "no database there" in capsys.readouterr().err


def _db_with_quotes(db_path: Path) -> Path:
    assert main(["ask", "--db", str(db_path)]) == 0
    return db_path


@pytest.mark.parametrize("name", ["a #1.db", "what?.db", "100% sure.db", "with space.db"])
def test_backup_paths_with_uri_characters_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    folder = tmp_path / "odd #?% dir"
    folder.mkdir()
    source = _db_with_quotes(folder / name)
    target = folder / f"copy of {name}"
    assert main(["backup", str(target), "--db", str(source)]) == 0
    assert _quote_count(target) == 77
    assert sorted(p.name for p in folder.iterdir() if "copy" in p.name) == [target.name]


def test_a_failed_backup_leaves_no_file_behind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "lambert.db"
    source.write_bytes(b"not a database" * 500)
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    assert main(["backup", str(target), "--db", str(source)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"lambert: {target}: backup failed, no file was written. {source}: not a usable SQLite "
        "database (file is not a database). It was left untouched; restore it from a backup "
        "or point LAMBERT_DB at a new file.\n"
    )
    assert list(target.parent.iterdir()) == []


def test_a_failed_forced_backup_keeps_the_old_copy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "lambert.db"
    source.write_bytes(b"not a database" * 500)
    target = tmp_path / "copy.db"
    target.write_bytes(b"yesterday's backup")
    assert main(["backup", str(target), "--force", "--db", str(source)]) == 1
    assert "backup failed, no file was written" in capsys.readouterr().err
    assert target.read_bytes() == b"yesterday's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "lambert.db"]


def test_backup_into_a_missing_folder_is_an_error(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    _db_with_quotes(db_path)
    capsys.readouterr()
    target = tmp_path / "bakups" / "copy.db"
    assert main(["backup", str(target), "--db", str(db_path)]) == 1
    assert capsys.readouterr().err == (
        f"lambert: {target}: the folder {target.parent} does not exist; create it first "
        "(backups never create folders, so a mistyped path fails here), or choose another "
        "path.\n"
    )
    assert not target.parent.exists()


@pytest.mark.parametrize("force", [False, True])
def test_backup_onto_a_folder_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path, force: bool
) -> None:
    _db_with_quotes(db_path)
    capsys.readouterr()
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    argv = ["backup", str(folder), "--db", str(db_path)] + (["--force"] if force else [])
    assert main(argv) == 1
    tail = " (--force never replaces a folder)." if force else "."
    assert capsys.readouterr().err == (
        f"lambert: {folder}: is a folder, not a file; give a file path, e.g. "
        f"{folder / 'lambert.db'}{tail}\n"
    )
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("through_a_link", [False, True])
def test_backup_never_replaces_what_is_not_a_regular_file(
    capsys: pytest.CaptureFixture[str],
    db_path: Path,
    tmp_path: Path,
    force: bool,
    through_a_link: bool,
) -> None:
    """A FIFO stands for /dev/null (a device is never touched here): left as it was."""
    _db_with_quotes(db_path)
    capsys.readouterr()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = tmp_path / "link" if through_a_link else fifo
    if through_a_link:
        target.symlink_to(fifo)
    argv = ["backup", str(target), "--db", str(db_path)] + (["--force"] if force else [])
    assert main(argv) == 1
    assert capsys.readouterr() == (
        "",
        f"lambert: {target}: is not a regular file, and backups replace only a regular file, "
        "--force or not; give the path of a new file, e.g. ./lambert-backup.db\n",
    )
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not through_a_link or (target.is_symlink() and target.readlink() == fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["lambert.db", "pipe", *(["link"] if through_a_link else [])]
    )


def test_backup_in_postgresql_mode_names_pg_dump_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db_path: Path,
    tmp_path: Path,
    postgres_url: str,
) -> None:
    url = with_password(postgres_url)
    monkeypatch.setenv("LAMBERT_DATABASE_URL", url)
    assert main(["daily", "set", "--platform", "console", "--channel", "general", "--time",
                 "09:00", "--tz", "UTC", "--db", str(db_path)]) == 0  # fmt: skip
    capsys.readouterr()
    target = tmp_path / "state.backup"
    assert main(["backup", str(target), "--db", str(db_path)]) == 1
    out, err = capsys.readouterr()
    parts = urlsplit(postgres_url)
    assert out == "" and err.count("\n") == 1 and PASSWORD not in err
    assert err.startswith("lambert: with LAMBERT_DATABASE_URL the shared state is in ")
    assert (
        f"pg_dump --format=custom --file={target} "
        f"'postgresql://postgres@{parts.hostname}:{parts.port}{parts.path}'" in err
    )
    assert not target.exists()


async def test_a_new_database_its_wal_and_its_folder_are_private(tmp_path: Path) -> None:
    """0600 and 0700 even under a umask that would give everyone everything."""
    path = tmp_path / "data" / "lambert.db"
    before = os.umask(0)
    try:
        async with connect(path) as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        os.umask(before)
    assert modes == {"lambert.db": 0o600, "lambert.db-wal": 0o600, "lambert.db-shm": 0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_health_warns_when_others_can_read_the_database(
    capsys: pytest.CaptureFixture[str], db_path: Path, mode: int
) -> None:
    _db_with_quotes(db_path)
    db_path.chmod(mode)
    capsys.readouterr()
    assert main(["health", "--db", str(db_path)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "WARNING" in line]
    if mode == 0o600:
        assert warnings == []
        return
    (warning,) = warnings
    assert warning.startswith(
        f"database: WARNING: {db_path} is open to other users (mode {mode:04o}) and holds bot "
        f"tokens; fix: chmod 600 {db_path}"
    )  # and its -wal and -shm when they are there
