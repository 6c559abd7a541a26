"""A consistent copy of the live database, through SQLite's online backup API."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do."""


def backup_file(source: Path, target: Path, *, overwrite: bool = False) -> int:
    """Copy `source` to `target` while it may be in use; returns the number of pages copied."""
    if not source.exists():
        raise BackupError(f"{source}: no database there. Check LAMBERT_DB or --db.")
    if target.exists() and not overwrite:
        raise BackupError(f"{target}: already exists. Choose a new path or pass --force.")
    if target.resolve() == source.resolve():
        raise BackupError(f"{target}: that is the live database; choose another path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        pages, check = _copy(source, target)
    except sqlite3.Error as exc:
        raise BackupError(f"{source} -> {target}: backup failed ({exc})") from exc
    if check != "ok":
        target.unlink(missing_ok=True)
        raise BackupError(f"{target}: the copy failed its integrity check ({check}); removed it")
    return pages


def _copy(source: Path, target: Path) -> tuple[int, str]:
    # The backup API copies page by page under SQLite's own locking, so it is safe while the
    # bot writes; `pages=1024` per step lets writers in between steps on a big file.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=1024)
            (pages,) = dst.execute("PRAGMA page_count").fetchone()
            (check,) = dst.execute("PRAGMA quick_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    return int(pages), str(check)


async def backup_database(source: Path, target: Path, *, overwrite: bool = False) -> int:
    """`backup_file` off the event loop, so a serving process stays responsive."""
    return await asyncio.to_thread(backup_file, source, target, overwrite=overwrite)
