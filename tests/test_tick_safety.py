"""`lambert daily tick` is safe to try: --dry-run changes nothing, an --at far from the clock
needs --force, and `daily list` always has a next post for an enabled schedule."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.daily.report import utc_text
from tests.support.cli import run
from tests.support.schedules import set_daily

SET = ["daily", "set", "--platform", "console", "--channel", "general", "--time", "09:00",
       "--tz", "Europe/Berlin"]  # fmt: skip


def daily_rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        posts = conn.execute("SELECT * FROM daily_posts ORDER BY 1, 2, 3").fetchall()
        bag = conn.execute("SELECT * FROM daily_bag ORDER BY 1, 2, 3").fetchall()
    return [*posts, ("bag",), *bag]


def test_a_dry_run_shows_what_is_due_and_posts_and_records_nothing(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    set_daily("general", db=db_path)  # before the day replayed
    before = daily_rows(db_path)
    code, out, err = run(
        capsys, "daily", "tick", "--at", "2025-03-10T08:00:00Z", "--dry-run", "--db", str(db_path)
    )
    assert (code, err) == (0, "")
    assert out == (
        "daily tick at 2025-03-10T08:00:00Z (dry run: nothing posted or recorded)\n"
        "  would post console/general 2025-03-10 (due 2025-03-10T08:00:00Z)\n"
    )  # no "[daily quote for #general]": the console poster printed nothing
    assert daily_rows(db_path) == before

    code, out, _ = run(
        capsys, "daily", "tick", "--at", "2025-03-10T08:00:00Z", "--dry-run", "--json",
        "--db", str(db_path),
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {
        "dry_run": True,
        "due": [
            {
                "platform": "console",
                "channel": "general",
                "local_date": "2025-03-10",
                "action": "post",
                "scheduled_at_utc": "2025-03-10T08:00:00Z",
            }
        ],
    }
    assert daily_rows(db_path) == before


@pytest.mark.parametrize("days", [-30, 1.5, 400])
def test_a_real_tick_far_from_the_clock_needs_force(
    capsys: pytest.CaptureFixture[str], db_path: Path, days: float
) -> None:
    assert run(capsys, *SET, "--db", str(db_path))[0] == 0
    before = daily_rows(db_path)
    at = datetime.now(UTC) + timedelta(days=days)
    code, out, err = run(capsys, "daily", "tick", "--at", at.isoformat(), "--db", str(db_path))
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith(f"lambert: --at {utc_text(at)} is {abs(days):.1f} days from the clock")
    assert line.endswith("Add --dry-run to see what it would do, or --force to run it anyway.")
    assert daily_rows(db_path) == before
    forced = ["daily", "tick", "--at", at.isoformat(), "--force", "--db", str(db_path)]
    assert run(capsys, *forced)[0] == 0


def test_a_tick_within_a_day_of_the_clock_needs_no_force(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    at = datetime.now(UTC) - timedelta(hours=20)
    assert run(capsys, "daily", "tick", "--at", at.isoformat(), "--db", str(db_path))[0] == 0


def test_daily_list_never_shows_no_next_post_for_an_enabled_schedule(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    """Days recorded ahead (a forced tick a week ahead records the days between as missed)
    used to leave `next: None`; the next free day is shown instead."""
    assert run(capsys, *SET, "--db", str(db_path))[0] == 0
    ahead = datetime.now(UTC) + timedelta(days=5)
    assert run(capsys, "daily", "tick", "--at", ahead.isoformat(), "--force",
               "--db", str(db_path))[0] == 0  # fmt: skip
    code, out, _ = run(capsys, "daily", "list", "--json", "--db", str(db_path))
    (row,) = json.loads(out)["schedules"]
    assert code == 0 and row["enabled"] and row["next_post_utc"] is not None
    assert row["next_post_utc"] > utc_text(ahead - timedelta(days=1))
    code, out, _ = run(capsys, "daily", "list", "--db", str(db_path))
    assert "None" not in out and "next 20" in out
