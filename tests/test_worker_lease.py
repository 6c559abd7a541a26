"""Worker leases: a scheduler is alive exactly while it holds its lock, whatever the clock says."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.daily.lease import WorkerLease, lease_folder

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock")


def test_a_lease_is_alive_while_held_and_gone_once_released(tmp_path: Path) -> None:
    folder = lease_folder(str(tmp_path / "lambert.db"))
    assert folder == tmp_path / "lambert.db-workers"
    mine, theirs = WorkerLease(folder), WorkerLease(folder)
    mine.acquire()
    token = mine.token
    assert token is not None and theirs.holder_alive(token)
    mine.release()
    assert mine.token is None and not theirs.holder_alive(token)
    assert list(folder.iterdir()) == []
    assert not theirs.holder_alive(None)  # a claim made without a lease


def test_the_lock_of_a_killed_process_is_free_at_once_and_its_file_is_cleared(
    tmp_path: Path,
) -> None:
    folder = lease_folder(str(tmp_path / "lambert.db"))
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.daily.lease import WorkerLease\n"
        f"lease = WorkerLease(Path({str(folder)!r}))\n"
        "lease.acquire()\n"
        "print(lease.token, flush=True)\n"
        "sys.stdin.read()  # held until killed\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    token = holder.stdout.readline().strip()
    observer = WorkerLease(folder)
    assert observer.holder_alive(token)
    holder.kill()
    holder.wait(timeout=20)
    assert not observer.holder_alive(token)
    assert list(folder.iterdir()) == []


def test_no_lease_where_none_can_be_held_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert lease_folder("") is None  # an in-memory database
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    lease = WorkerLease(blocked / "lambert.db-workers")
    with caplog.at_level(logging.WARNING, logger="bot.daily.lease"):
        lease.acquire()
    assert lease.token is None
    assert "no worker lease" in caplog.text
    lease.release()  # harmless
