"""`lambert db copy`: an installation's SQLite state moved into PostgreSQL, in one transaction,
with the SQLite file never written and the password in no output."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from bot.config import Secret, Settings
from bot.coordination.store import LeaseStore
from bot.daily.schedules import DAY_NAMES
from bot.installs.store import Install
from bot.runtime import open_core
from bot.storage.copy import SHARED_TABLES
from bot.storage.schema import Day, Flag, Instant, LocalTime
from tests.support.cli import run
from tests.support.postgres import run_in_thread
from tests.support.postgres_cli import PASSWORD, rows, with_password
from tests.support.schedules import set_daily
from tests.support.state import state_engine

# Two quotes in `pair`: a channel that drew one in SQLite must draw the other in PostgreSQL.
CORPUS_TOML = """
[[themes]]
slug = "pair"
title = "A pair"
aliases = []

[[themes]]
slug = "rest"
title = "The rest"
aliases = []

[[quotes]]
id = "pair-one"
theme = "pair"
topic = "One"
source = "Test"
kind = "quote"
text = "The first of the pair of quotes."

[[quotes]]
id = "pair-two"
theme = "pair"
topic = "Two"
source = "Test"
kind = "quote"
text = "The second of the pair of quotes."

[[quotes]]
id = "rest-one"
theme = "rest"
topic = "Rest"
source = "Test"
kind = "paraphrase"
text = "Everything else, summarised."
"""

# The fixture that makes a folder read-only, even for root (chattr +i).

PAIR_CHANNELS = ("c1", "c2", "c3", "c4", "c5")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "pair.toml"
    path.write_text(CORPUS_TOML, encoding="utf-8")
    return path


def noon_before(now: datetime) -> datetime:
    """The last 12:00 UTC at or before `now`: it and the next day's are within a day of now,
    as `daily tick --at` wants."""
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= now else noon - timedelta(days=1)


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def daily_list(capsys: pytest.CaptureFixture[str], *where: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "daily", "list", "--json", *where)
    assert code == 0, err
    schedules: list[dict[str, Any]] = json.loads(out)["schedules"]
    return schedules


def tick(capsys: pytest.CaptureFixture[str], at: datetime, *where: str) -> dict[str, Any]:
    code, out, err = run(capsys, "daily", "tick", "--at", iso(at), "--json", *where)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def installation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, corpus: Path
) -> datetime:
    """A SQLite installation with history: schedules (one off), a posted day per `pair`
    channel, a missed day, stats of those posts. Returns the instant of its tick."""
    monkeypatch.setenv("LAMBERT_DB", str(db))
    monkeypatch.setenv("LAMBERT_CORPUS", str(corpus))
    monkeypatch.setenv("LAMBERT_CATCHUP_HOURS", "1")
    at = noon_before(datetime.now(UTC))
    # Set that morning, before the 08:00 it misses: a schedule counts from when it was set.
    that_morning = at - timedelta(hours=5)
    for channel in PAIR_CHANNELS:
        set_daily(channel, "12:00", "UTC", theme="pair", at=that_morning)
    set_daily("late", "08:00", "UTC", at=that_morning)
    quiet = ["--platform", "console", "--channel", "quiet"]
    assert run(capsys, "daily", "set", *quiet, "--time", "07:15", "--tz", "Asia/Tokyo")[0] == 0
    assert run(capsys, "daily", "off", *quiet)[0] == 0

    report = tick(capsys, at)
    assert sorted(p["channel"] for p in report["posted"]) == list(PAIR_CHANNELS)
    assert [m["channel"] for m in report["missed"]] == ["late"]
    return at


def drawn(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(
            conn.execute("SELECT channel, quote_id FROM daily_posts WHERE quote_id IS NOT NULL")
        )


def test_a_copied_installation_lists_the_same_and_carries_on_where_it_left_off(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    corpus: Path,
    postgres_url: str,
) -> None:
    db = tmp_path / "lambert.db"
    at = installation(capsys, monkeypatch, db, corpus)
    in_sqlite = drawn(db)
    before = db.read_bytes()
    sqlite_list = daily_list(capsys)
    code, sqlite_stats, err = run(capsys, "stats", "--json")
    assert code == 0, err

    code, out, err = run(capsys, "db", "copy", "--to", postgres_url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"copied {db} to {postgres_url} in one transaction:"
    counts = {line.split()[0]: int(line.split()[1]) for line in lines[1:]}
    assert list(counts) == list(SHARED_TABLES)
    assert counts["daily_schedules"] == 7
    assert counts["daily_posts"] == 6  # five posted, one missed
    assert counts["daily_bag"] == 5
    assert counts["stats_counts"] > 0
    assert db.read_bytes() == before  # opened read-only: not a byte changed

    shared = ["--database-url", postgres_url]
    assert daily_list(capsys, *shared) == sqlite_list
    code, pg_stats, err = run(capsys, "stats", "--json", *shared)
    assert code == 0, err
    assert json.loads(pg_stats) == json.loads(sqlite_stats)

    # The day the SQLite installation posted is not posted again...
    again = tick(capsys, at, *shared)
    assert again["posted"] == [] and again["missed"] == []
    # ...and the next day draws what each channel's bag still holds: the other of the pair.
    nxt = tick(capsys, at + timedelta(days=1), *shared)
    pg_drawn = {p["channel"]: p["quote_id"] for p in nxt["posted"]}
    assert set(PAIR_CHANNELS) <= set(pg_drawn)
    for channel in PAIR_CHANNELS:
        assert {in_sqlite[channel], pg_drawn[channel]} == {"pair-one", "pair-two"}
    assert db.read_bytes() == before


def test_preview_claims_move_too(
    settings: Settings, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)

    async def claim(where: Settings, preview_id: str) -> bool:
        async with open_core(where) as core:
            return await core.previews.claim(preview_id, "slack", "C1", now)

    assert run_in_thread(claim(settings, "slack:1"))
    code, _, err = run(capsys, "db", "copy", "--db", str(settings.db_path), "--to", postgres_url)
    assert code == 0, err
    shared = dataclasses.replace(settings, database_url=Secret(postgres_url))
    assert not run_in_thread(claim(shared, "slack:1"))  # claimed before the move
    assert run_in_thread(claim(shared, "slack:2"))


def test_slack_installs_and_the_tokens_workspace_move_too(
    settings: Settings, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Many workspaces on SQLite, moving to replicas: every workspace's install (its bot
    token) carries over, so nothing needs installing again."""
    installed = Install(
        platform="slack",
        enterprise_id="E0GRID",
        team_id="",
        team_name="Grid Org",
        app_id="A0LAMBERT",
        bot_token="xoxb-org",
        bot_id="B0ORG",
        bot_user_id="U0ORG",
        bot_scopes="commands,chat:write,users:read",
        installer_id="U0ADMIN",
        installed_at=datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        bot_refresh_token="xoxe-1-org",
        bot_token_expires_at=datetime(2026, 11, 1, 21, 30, tzinfo=UTC),
    )

    async def record(where: Settings) -> None:
        async with open_core(where) as core:
            assert core.installs is not None
            await core.installs.save(installed)

    async def read(where: Settings) -> Install | None:
        async with open_core(where) as core:
            assert core.installs is not None
            return await core.installs.find_workspace("slack", "E0GRID")

    run_in_thread(record(settings))
    code, out, err = run(capsys, "db", "copy", "--db", str(settings.db_path), "--to", postgres_url)
    assert code == 0, err
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()[1:]}
    assert counts["installs"] == 1
    shared = dataclasses.replace(settings, database_url=Secret(postgres_url))
    assert run_in_thread(read(shared)) == installed


def seed_schedule(capsys: pytest.CaptureFixture[str], channel: str, *where: str) -> None:
    """A schedule set by `lambert daily set` (`where`: its database options, maybe --days)."""
    code, _, err = run(
        capsys, "daily", "set", "--platform", "console", "--channel", channel,
        "--time", "09:00", "--tz", "Europe/Berlin", *where,
    )  # fmt: skip
    assert code == 0, err


def test_a_weekday_schedule_moves_with_its_days(
    capsys: pytest.CaptureFixture[str], db_path: Path, postgres_url: str
) -> None:
    """The copy walks the metadata: the `weekdays` column (revision 0005) moved with no code
    of its own, and so does a file written before it (every day, the column's default)."""
    local = ["--db", str(db_path)]
    seed_schedule(capsys, "mwf", *local, "--days", "mon,wed,fri")
    seed_schedule(capsys, "workweek", *local, "--days", "weekdays")
    sqlite_list = daily_list(capsys, *local)
    code, _, err = run(capsys, "db", "copy", *local, "--to", postgres_url)
    assert code == 0, err
    assert rows(postgres_url, "SELECT channel, weekdays FROM daily_schedules ORDER BY 1") == [
        ("mwf", 0b0010101),
        ("workweek", 0b0011111),
    ]
    pg_list = daily_list(capsys, "--database-url", postgres_url)
    assert pg_list == sqlite_list
    assert [s["days"] for s in pg_list] == [["mon", "wed", "fri"], list(DAY_NAMES[:5])]


def test_a_file_from_before_weekdays_copies_as_every_day(
    capsys: pytest.CaptureFixture[str], db_path: Path, postgres_url: str
) -> None:
    local = ["--db", str(db_path)]
    seed_schedule(capsys, "general", *local)
    with sqlite3.connect(db_path) as conn:  # as lambert at revision 0004 left it
        conn.execute("ALTER TABLE daily_schedules DROP COLUMN weekdays")
        conn.execute("UPDATE alembic_version SET version_num = '0004'")
    code, _, err = run(capsys, "db", "copy", *local, "--to", postgres_url)
    assert code == 0, err
    assert rows(postgres_url, "SELECT channel, weekdays FROM daily_schedules") == [("general", 127)]
    (schedule,) = daily_list(capsys, "--database-url", postgres_url)
    assert schedule["days"] == list(DAY_NAMES)


def test_a_target_with_state_is_refused_unless_forced(
    capsys: pytest.CaptureFixture[str], db_path: Path, postgres_url: str
) -> None:
    local = ["--db", str(db_path)]
    seed_schedule(capsys, "from-sqlite", *local)
    seed_schedule(capsys, "already-there", *local, "--database-url", postgres_url)

    code, out, err = run(capsys, "db", "copy", *local, "--to", postgres_url)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "already holds lambert's state (rows: daily_schedules 1)" in err
    assert "--force" in err and "nothing was copied" in err
    assert rows(postgres_url, "SELECT channel FROM daily_schedules") == [("already-there",)]

    code, out, err = run(capsys, "db", "copy", *local, "--to", postgres_url, "--force", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["copied"]["daily_schedules"] == 1
    assert report["replaced"] == {"daily_schedules": 1}
    assert rows(postgres_url, "SELECT channel FROM daily_schedules") == [("from-sqlite",)]


def test_a_failed_copy_changes_nothing_in_the_target(
    capsys: pytest.CaptureFixture[str], db_path: Path, postgres_url: str
) -> None:
    """Two days with one claim token: PostgreSQL's unique key refuses the second, mid-copy,
    after the forced delete of what was there: all of it is rolled back."""
    local = ["--db", str(db_path)]
    seed_schedule(capsys, "already-there", *local, "--database-url", postgres_url)
    seed_schedule(capsys, "from-sqlite", *local)
    with sqlite3.connect(db_path) as conn:
        for day in ("2025-03-10", "2025-03-11"):
            conn.execute(
                "INSERT INTO daily_posts (platform, channel, local_date, status, claim_token, "
                "claimed_at) VALUES ('console', 'from-sqlite', ?, 'posted', 'same', "
                "'2025-03-10T08:00:00+00:00')",
                (day,),
            )

    code, out, err = run(capsys, "db", "copy", *local, "--to", postgres_url, "--force")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "the copy failed" in err and "nothing was copied" in err
    assert rows(postgres_url, "SELECT channel FROM daily_schedules") == [("already-there",)]
    assert rows(postgres_url, "SELECT count(*) FROM daily_posts") == [(0,)]


def test_the_password_is_never_printed(
    capsys: pytest.CaptureFixture[str], db_path: Path, postgres_url: str
) -> None:
    seed_schedule(capsys, "general", "--db", str(db_path))
    url = with_password(postgres_url)
    code, out, err = run(capsys, "db", "copy", "--db", str(db_path), "--to", url)
    assert code == 0, err
    assert "postgres:***@" in out and PASSWORD not in out + err
    code, out, err = run(capsys, "db", "copy", "--db", str(db_path), "--to", url)
    assert code == 1 and "postgres:***@" in err and PASSWORD not in out + err


def test_an_installation_in_a_folder_this_user_cannot_write_is_copied(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
    make_read_only: Callable[[Path], None],
) -> None:
    """An old volume mounted to copy from: SQLite cannot create the -wal and -shm files it
    reads a WAL database through, and the file, stopped cleanly, has everything."""
    old = tmp_path / "old"
    db = old / "lambert.db"
    seed_schedule(capsys, "general", "--db", str(db))
    before = db.read_bytes()
    make_read_only(old)
    code, _, err = run(capsys, "db", "copy", "--db", str(db), "--to", postgres_url)
    assert code == 0, err
    assert rows(postgres_url, "SELECT channel FROM daily_schedules") == [("general",)]
    assert db.read_bytes() == before and sorted(p.name for p in old.iterdir()) == ["lambert.db"]


def test_a_lambert_still_running_on_the_file_is_refused(
    capsys: pytest.CaptureFixture[str], db_path: Path, postgres_url: str
) -> None:
    """Its posts after the snapshot would be unknown to the replicas: a day posted twice."""
    seed_schedule(capsys, "general", "--db", str(db_path))
    with sqlite3.connect(db_path) as conn:
        # The table of bot/coordination/lease.py (SQLite migration 7), here if that is not yet.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS worker_leases (token TEXT PRIMARY KEY, "
            "holder TEXT NOT NULL, expires_at REAL NOT NULL)"
        )
        conn.execute(
            "INSERT INTO worker_leases VALUES ('gone', 'old-host:7', julianday('now') - 1)"
        )
        conn.execute(
            "INSERT INTO worker_leases VALUES ('live', 'old-host:42', "
            "julianday('now') + 30 / 86400.0)"
        )
    copy = ["db", "copy", "--db", str(db_path), "--to", postgres_url]
    code, out, err = run(capsys, *copy)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "a lambert still runs on this file (old-host:42 holds a scheduler lease for" in err
    assert rows(postgres_url, "SELECT count(*) FROM daily_schedules") == [(0,)]

    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM worker_leases WHERE token = 'live'")  # it stopped
    code, _, err = run(capsys, *copy)
    assert code == 0, err
    assert rows(postgres_url, "SELECT channel FROM daily_schedules") == [("general",)]


def test_the_variable_names_the_target_too(
    capsys: pytest.CaptureFixture[str],
    db_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_schedule(capsys, "general", "--db", str(db_path))
    monkeypatch.setenv("LAMBERT_DATABASE_URL", postgres_url)
    code, _, err = run(capsys, "db", "copy", "--db", str(db_path))
    assert code == 0, err
    assert rows(postgres_url, "SELECT channel FROM daily_schedules") == [("general",)]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["db", "copy"], "no database to copy into; give --to postgresql://"),
        (["db", "copy", "--to", f"mysql://root:{PASSWORD}@db/x"], "is not a PostgreSQL URL"),
        (["db", "copy", "--to", "postgresql://u@127.0.0.1:1/x"], "no database here"),
    ],
)
def test_refusals_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], expected: str
) -> None:
    missing = tmp_path / "none" / "lambert.db"
    code, out, err = run(capsys, *argv, "--db", str(missing))
    assert code in (1, 2) and out == ""
    assert expected in err and err.count("\n") == 1 and PASSWORD not in err
    assert not missing.parent.exists()  # nothing created


@pytest.mark.parametrize(
    ("kind", "stored", "native"),
    [
        (Flag, 0, False),
        (Flag, 1, True),
        (Day, "2025-03-30", date(2025, 3, 30)),
        (LocalTime, "09:30", time(9, 30)),
        (
            Instant,
            "2025-03-30T01:30:00+00:00",
            datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
        ),
        # Never written by lambert, but only UTC can have been meant.
        (
            Instant,
            "2025-03-30T01:30:00",
            datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
        ),
        (
            Instant,
            "2025-10-26T02:30:00+01:00",
            datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
        ),
    ],
)
def test_sqlite_text_and_integers_become_postgresql_types(
    kind: TypeDecorator[Any], stored: object, native: object
) -> None:
    """What the SQLite file stores reads back as the value PostgreSQL's column holds."""
    read = kind.result_processor(sqlite.dialect(), None)
    assert read is not None and read(stored) == native


@pytest.mark.parametrize("lease", ["worker", "shard"])
def test_a_target_a_lambert_runs_on_is_refused_even_when_forced(
    capsys: pytest.CaptureFixture[str], db_path: Path, postgres_url: str, lease: str
) -> None:
    """A replica already serving from the target holds a lease there: replacing the state
    under it could post a day twice, so not even --force copies (issue 19, point 2)."""
    local = ["--db", str(db_path)]
    seed_schedule(capsys, "from-sqlite", *local)

    async def hold() -> None:
        async with state_engine(db_path, postgres_url) as engine:
            leases = LeaseStore(engine)
            if lease == "worker":
                await leases.hold_lease("t1", "replica-host:41", timedelta(seconds=60))
            else:
                await leases.hold_shards("t1", "replica-host:41", "1", (0,), 1, timedelta(60))

    run_in_thread(hold())
    code, out, err = run(capsys, "db", "copy", *local, "--to", postgres_url, "--force")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "replica-host:41 holds a lease" in err
    assert "nothing was copied, even with --force" in err
    assert rows(postgres_url, "SELECT channel FROM daily_schedules") == []
