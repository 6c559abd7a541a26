"""`lambert` with a database URL: the daily state in PostgreSQL, the quotes in the SQLite file,
and the URL's password in no output."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.config import ConfigError, Secret, Settings, load_settings
from bot.runtime import open_core
from tests.support.cli import run
from tests.support.paths import CORPUS
from tests.support.postgres_cli import PASSWORD, rows, with_password
from tests.support.schedules import set_daily

SET = ["daily", "set", "--platform", "console", "--channel", "general"]
BERLIN_NINE = ["--time", "09:00", "--tz", "Europe/Berlin", "--theme", "dpo-vs-ppo"]


def test_daily_set_and_list_keep_the_schedule_in_postgresql_only(
    capsys: pytest.CaptureFixture[str], postgres_url: str, db_path: Path
) -> None:
    where = ["--db", str(db_path), "--corpus", str(CORPUS), "--database-url", postgres_url]
    code, out, err = run(capsys, *SET, *BERLIN_NINE, *where)
    assert code == 0, err
    assert "console/general" in out

    code, out, err = run(capsys, "daily", "list", "--json", *where)
    assert code == 0, err
    (row,) = json.loads(out)["schedules"]
    assert (row["platform"], row["channel"], row["time"], row["tz"], row["theme"]) == (
        "console",
        "general",
        "09:00",
        "Europe/Berlin",
        "dpo-vs-ppo",
    )
    assert rows(postgres_url, "SELECT platform, channel, theme FROM daily_schedules") == [
        ("console", "general", "dpo-vs-ppo")
    ]
    # The SQLite file has the corpus, and nothing of the daily state (not even its tables).
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM quotes").fetchone()[0] > 0
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_schema")}
        assert not tables & {"daily_schedules", "daily_posts", "daily_bag"}

    # Without the URL, the SQLite file's (empty) daily state is what a command sees.
    code, out, err = run(capsys, "daily", "list", "--json", "--db", str(db_path))
    assert code == 0, err
    assert json.loads(out)["schedules"] == []


def test_a_tick_posts_from_postgresql_once(
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The variable works as the option does; a second tick (another replica) posts nothing."""
    monkeypatch.setenv("LAMBERT_DATABASE_URL", postgres_url)
    monkeypatch.setenv("LAMBERT_DB", str(db_path))
    set_daily("general", theme="dpo-vs-ppo")  # before the day replayed, in PostgreSQL
    tick = ["daily", "tick", "--at", "2025-03-10T08:00:00Z", "--force", "--json"]
    code, out, err = run(capsys, *tick)
    assert code == 0, err
    (posted,) = json.loads(out)["posted"]
    assert (posted["channel"], posted["local_date"]) == ("general", "2025-03-10")
    code, out, err = run(capsys, *tick)
    assert code == 0 and json.loads(out)["posted"] == []
    assert rows(postgres_url, "SELECT status, quote_id FROM daily_posts") == [
        ("posted", posted["quote_id"])
    ]


def test_the_password_appears_in_no_output(
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    url = with_password(postgres_url)
    where = ["--db", str(db_path), "--database-url", url]
    code, out, err = run(capsys, *SET, *BERLIN_NINE, *where)
    assert code == 0, err
    assert PASSWORD not in out + err

    # Nothing listens on the port of a stopped server: the error names the database, redacted.
    parts = urlsplit(url)
    gone = parts._replace(netloc=f"postgres:{PASSWORD}@127.0.0.1:1").geturl()
    code, out, err = run(capsys, "daily", "list", "--db", str(db_path), "--database-url", gone)
    assert code == 1
    assert "postgresql://postgres:***@127.0.0.1:1/" in err and "cannot connect" in err
    assert PASSWORD not in out + err


def test_a_url_that_is_not_postgresql_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"LAMBERT_DATABASE_URL": f"mysql://root:{PASSWORD}@db/lambert"})
    assert PASSWORD not in str(refused.value) and "postgresql://" in str(refused.value)
    settings = load_settings({}, database_url=f"postgresql://u:{PASSWORD}@db/lambert")
    assert PASSWORD in settings.secrets  # redacted from every log line
    assert PASSWORD not in repr(settings)
    assert not load_settings({}).database_url


async def test_preview_claims_are_shared_through_postgresql(
    settings: Settings, postgres_url: str
) -> None:
    shared = dataclasses.replace(settings, database_url=Secret(postgres_url))
    now = datetime(2025, 6, 2, 9, tzinfo=UTC)
    async with open_core(shared) as core:
        assert await core.previews.claim("discord:1", "discord", "123", now)
    async with open_core(shared) as replica:
        assert not await replica.previews.claim("discord:1", "discord", "123", now)
    async with open_core(settings) as alone:  # the SQLite file never saw that claim
        assert await alone.previews.claim("discord:1", "discord", "123", now)
