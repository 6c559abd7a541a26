"""Exactly once across real processes: concurrent ticks on one file, and a SIGKILL mid-post."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.support.schedules import set_daily

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes and signals")

NINE_BERLIN = "2025-03-10T08:00:00Z"
CHANNELS = ("a", "b", "c", "d")
PATIENCE = 20.0  # seconds; a process start takes well under one


def lambert(db: Path, *argv: str) -> list[str]:
    return [sys.executable, "-m", "bot", *argv, "--db", str(db)]


def set_schedules(db: Path, channels: tuple[str, ...]) -> None:
    """09:00 Berlin in each channel, set before the day the ticks replay."""
    for channel in channels:
        set_daily(channel, db=db)


def statuses(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT channel, local_date, status FROM daily_posts ORDER BY 1, 2")
        return [tuple(row) for row in rows]


def leases(db: Path, *, live: bool = True) -> list[str]:
    """The holders of worker leases (bot/coordination): live ones by SQLite's clock, or all."""
    where = "WHERE expires_at > julianday('now')" if live else ""
    with sqlite3.connect(db) as conn:
        return sorted(row[0] for row in conn.execute(f"SELECT holder FROM worker_leases {where}"))


def tick_json(db: Path, at: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        lambert(db, "daily", "tick", "--at", at, "--force", "--json"),
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    )
    payload: dict[str, Any] = json.loads(done.stdout)
    return payload, done.stderr


def test_concurrent_ticks_in_separate_processes_post_each_channel_once(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_schedules(db_path, CHANNELS)
    capsys.readouterr()
    ticks = [
        subprocess.Popen(
            lambert(db_path, "daily", "tick", "--at", NINE_BERLIN, "--force", "--json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [tick.communicate(timeout=PATIENCE) for tick in ticks]
    assert [tick.returncode for tick in ticks] == [0, 0, 0]

    posted = [p["channel"] for out, _ in outputs for p in json.loads(out)["posted"]]
    assert sorted(posted) == list(CHANNELS)
    printed = "".join(err for _, err in outputs)
    assert sorted(c for c in CHANNELS if f"[daily quote for #{c}]" in printed) == list(CHANNELS)
    assert sum(printed.count(f"[daily quote for #{c}]") for c in CHANNELS) == len(CHANNELS)
    assert statuses(db_path) == [(c, "2025-03-10", "posted") for c in CHANNELS]


def _full_pipe() -> tuple[int, int]:
    """A pipe whose buffer is already full: whoever writes to it next blocks."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    size = 1 << 16
    while size:
        try:
            os.write(write_end, b"\0" * size)
        except BlockingIOError:
            size //= 2
    os.set_blocking(write_end, True)
    return read_end, write_end


def test_a_process_killed_between_claim_and_post_is_never_posted_twice(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console post goes to a full pipe, so the tick blocks inside the post, after its
    claim is committed and marked as sending; there it is SIGKILLed. No test hook in the
    code under test. Its lease lasts one second (LAMBERT_LEASE_SECONDS), not the default
    minute, so its day is taken back that soon after."""
    set_schedules(db_path, ("general",))
    capsys.readouterr()
    read_end, write_end = _full_pipe()
    try:
        stuck = subprocess.Popen(
            lambert(db_path, "daily", "tick", "--at", NINE_BERLIN, "--force"),
            stdout=write_end,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "LAMBERT_LEASE_SECONDS": "1"},
        )
        deadline = time.monotonic() + PATIENCE
        while statuses(db_path) != [("general", "2025-03-10", "sending")]:
            assert stuck.poll() is None, "the tick finished instead of blocking in the post"
            assert time.monotonic() < deadline, "the tick never started sending"
            time.sleep(0.02)  # a real process: it is waited for, not faked
        assert leases(db_path) == [f"{socket.gethostname()}:{stuck.pid}"]  # held while it posts
        stuck.send_signal(signal.SIGKILL)
        assert stuck.wait(timeout=PATIENCE) == -signal.SIGKILL
    finally:
        os.close(read_end)
        os.close(write_end)

    # Its lease expires (by SQLite's clock) within a second: the next start takes its day back.
    deadline = time.monotonic() + PATIENCE
    while leases(db_path):
        assert time.monotonic() < deadline, "the dead tick's lease never expired"
        time.sleep(0.05)
    report, log = tick_json(db_path, NINE_BERLIN)
    assert (report["posted"], report["missed"], report["failed"]) == ([], [], [])
    (unknown,) = report["unknown"]  # settled by this tick: reported like any other unknown
    assert (unknown["channel"], unknown["local_date"]) == ("general", "2025-03-10")
    assert unknown["reason"] == "outcome unknown: a process stopped while posting it"
    assert "WARNING" in log and "may or may not have gone out" in log
    assert statuses(db_path) == [("general", "2025-03-10", "unknown")]
    assert leases(db_path, live=False) == []  # the dead one's row went once expired
    later_that_day, _ = tick_json(db_path, "2025-03-10T15:00:00Z")
    assert later_that_day["posted"] == []

    assert main(["daily", "list", "--json", "--db", str(db_path)]) == 0
    (row,) = json.loads(capsys.readouterr().out)["schedules"]
    assert row["last_outcome"]["status"] == "unknown"

    next_day, _ = tick_json(db_path, "2025-03-11T08:00:00Z")
    assert [p["local_date"] for p in next_day["posted"]] == ["2025-03-11"]


def test_a_second_process_ticking_while_the_first_is_mid_post_does_not_post(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two live schedulers at once, deterministically: the first is held inside its post."""
    set_schedules(db_path, ("general",))
    capsys.readouterr()
    read_end, write_end = _full_pipe()
    first = subprocess.Popen(
        lambert(db_path, "daily", "tick", "--at", NINE_BERLIN, "--force"),
        stdout=write_end,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)  # the child holds its own copy; EOF comes when it exits
    with os.fdopen(read_end, "rb") as reader:
        deadline = time.monotonic() + PATIENCE
        while statuses(db_path) != [("general", "2025-03-10", "sending")]:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)

        second, log = tick_json(db_path, NINE_BERLIN)
        assert second == {"posted": [], "missed": [], "failed": [], "unknown": []}
        # The first still holds its lease: its day is left to it, with no false alarm.
        assert "may or may not have gone out" not in log
        assert statuses(db_path) == [("general", "2025-03-10", "sending")]

        printed = reader.read().lstrip(b"\0").decode()  # unblocks the first, to the end
    assert first.wait(timeout=PATIENCE) == 0
    assert printed.count("[daily quote for #general]") == 1
    assert "posted console/general 2025-03-10" in printed
    assert statuses(db_path) == [("general", "2025-03-10", "posted")]
    assert leases(db_path, live=False) == []  # both dropped theirs on the way out
