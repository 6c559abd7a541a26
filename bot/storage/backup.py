"""A consistent copy of the live database, through SQLite's online backup API."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from bot.storage.connection import explain, primary_code, read_only


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do."""


def backup_file(source: Path, target: Path, *, overwrite: bool = False) -> int:
    """Copy `source` to `target` while it may be in use; the number of pages copied. Written
    beside `target` under a temporary name and renamed into place once complete and checked:
    a failed backup leaves no file behind, a failed `--force` the old backup as it was."""
    _check_paths(source, target, overwrite)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        # The backup API copies page by page under SQLite's own locking, so it is safe while
        # the bot writes; `pages=1024` per step lets writers in between steps on a big file.
        with read_only(source) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst, pages=1024)
            (pages,) = dst.execute("PRAGMA page_count").fetchone()
            (check,) = dst.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(
                f"{target}: the copy failed SQLite's integrity check ({check}), so none was "
                "kept; run `lambert health` on the database, and restore it if it is damaged."
            )
        os.replace(partial, target)
    except sqlite3.Error as exc:
        why = explain(exc, source, "reading the database for the backup")
        if primary_code(exc) == sqlite3.SQLITE_FULL:  # the target's disk, not the source's
            why = (
                "The disk it is on is full (SQLITE_FULL); free space there or choose another disk."
            )
        raise BackupError(f"{target}: backup failed, no file was written. {why}") from exc
    except OSError as exc:
        raise BackupError(
            f"{target}: backup failed, no file was written ({exc.strerror}); check the "
            "target folder's free space and permissions."
        ) from exc
    finally:
        for end in ("", "-journal", "-wal", "-shm"):
            Path(f"{partial}{end}").unlink(missing_ok=True)
    return int(pages)


def _check_paths(source: Path, target: Path, overwrite: bool) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no database there. Check LAMBERT_DB or --db.")
    if target.is_dir():
        raise BackupError(
            f"{target}: is a folder, not a file; give a file path, e.g. {target / source.name}"
            + (" (--force never replaces a folder)." if overwrite else ".")
        )
    if not target.parent.is_dir():
        raise BackupError(
            f"{target}: the folder {target.parent} does not exist; create it first (backups "
            "never create folders, so a mistyped path fails here), or choose another path."
        )
    if os.path.lexists(target) and not os.path.isfile(target):
        # A device, a FIFO or a socket (or a link to one, or a dangling link) is never
        # replaced: `backup /dev/null --force` as root once replaced the system's /dev/null.
        raise BackupError(
            f"{target}: is not a regular file, and backups replace only a regular file, "
            "--force or not; give the path of a new file, e.g. ./lambert-backup.db"
        )
    if target.exists() and not overwrite:
        raise BackupError(f"{target}: already exists. Choose a new path or pass --force.")
    if target.resolve() == source.resolve():
        raise BackupError(f"{target}: that is the live database; choose another path.")


async def backup_database(source: Path, target: Path, *, overwrite: bool = False) -> int:
    """`backup_file` off the event loop, so a serving process stays responsive."""
    return await asyncio.to_thread(backup_file, source, target, overwrite=overwrite)
