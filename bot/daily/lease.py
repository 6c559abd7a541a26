"""Whether the process holding a daily claim is still alive, told by the operating system.

A scheduler holds an exclusive `flock` on a file of its own beside the database
(`lambert.db-workers/<token>.lock`) for as long as it may have claims under way. The OS
drops the lock when the process ends, however it ends (SIGKILL too), so another process
that can take the lock knows the claims are abandoned. Time plays no part: a scheduler on a
simulated clock, or one that is merely slow, is never taken for dead.

Where no lock can be held (no `fcntl`, an in-memory database, a read-only folder) the
scheduler runs without a lease and its claims look abandoned to every later start, which is
the safe side: a `sending` day is then reported unknown, never posted twice.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import uuid
from pathlib import Path
from typing import IO

if sys.platform != "win32":
    import fcntl

log = logging.getLogger(__name__)


def lease_folder(db_file: str) -> Path | None:
    """Where the leases of the database at `db_file` live; None for an in-memory database."""
    if not db_file or sys.platform == "win32":
        return None
    path = Path(db_file)
    return path.with_name(path.name + "-workers")


class WorkerLease:
    """This scheduler's lock; `token` names it in the claims it makes (None: no lease)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.token: str | None = None
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        if self.folder is None or self._file is not None or sys.platform == "win32":
            return
        token = uuid.uuid4().hex
        try:
            self.folder.mkdir(exist_ok=True)
            handle = (self.folder / f"{token}.lock").open("wb")
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            log.warning(
                "daily: no worker lease in %s (%s): claims of a process that stops while "
                "posting will be reported unknown at once, even if it is alive",
                self.folder,
                exc.strerror,
            )
            return
        self._file, self.token = handle, token

    def release(self) -> None:
        """Unlink, then unlock: a check in between finds no file, which also means gone."""
        if self._file is None or self.folder is None:
            return
        (self.folder / f"{self.token}.lock").unlink(missing_ok=True)
        self._file.close()
        self._file, self.token = None, None

    def holder_alive(self, token: str | None) -> bool:
        """Whether the scheduler that made a claim with `token` still holds its lease."""
        if token is None or self.folder is None or sys.platform == "win32":
            return False
        if token == self.token:
            return True
        path = self.folder / f"{token}.lock"
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return False  # released cleanly, or already found abandoned
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            # Taken: the holder is gone. Its file goes too (nobody reuses a token).
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return False
