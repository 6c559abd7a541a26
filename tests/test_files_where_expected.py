"""Files where users expect them: the database in the user's data folder, nothing left in the
folder a command runs from, and a database an older version left there still found."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.config import default_db_path, load_settings


def data_db() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "lambert" / "lambert.db"


def test_the_default_database_lives_in_the_users_data_folder() -> None:
    assert default_db_path() == data_db()  # XDG_DATA_HOME, as platformdirs reads it on Linux
    assert load_settings({}).db_path == data_db()
    assert load_settings({"LAMBERT_DB": "/srv/x.db"}).db_path == Path("/srv/x.db")
    assert load_settings({"LAMBERT_DB": "/srv/x.db"}, db_path="y.db").db_path == Path("y.db")


@pytest.mark.parametrize(
    "argv",
    [["themes"], ["ask", "dpo"], ["search", "rlhf"], ["ask", "--json", "id", "dpo-simplicity"]],
)
def test_read_only_commands_create_nothing_in_the_working_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    os.chdir(work)
    assert main(argv) == 0
    assert sorted(os.listdir(work)) == []
    assert data_db().is_file()
    assert "note:" not in capsys.readouterr().err


def test_health_creates_nothing_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    os.chdir(work)
    assert main(["health"]) == 1  # nothing has run here yet
    assert os.listdir(work) == []
    assert not data_db().parent.exists()
    assert len(capsys.readouterr().out.splitlines()) >= 1


def test_lambert_themes_in_an_empty_folder_prints_only_the_themes(tmp_path: Path) -> None:
    """The issue's own check, as a user runs it: `cd $(mktemp -d) && lambert themes && ls -A`."""
    work = tmp_path / "fresh"
    work.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LAMBERT_", "SLACK_", "DISCORD_"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "themes"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "dpo-vs-ppo" in done.stdout
    assert os.listdir(work) == []


def test_a_database_left_in_the_working_folder_is_used_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chdir(tmp_path)
    assert main(["daily", "set", "--platform", "console", "--channel", "old", "--time", "9",
                 "--tz", "UTC", "--db", "lambert.db"]) == 0  # fmt: skip
    capsys.readouterr()

    assert main(["daily", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert '"channel": "old"' in out  # the old file was found and used
    (note,) = err.splitlines()
    home = data_db().parent
    assert note == (
        "lambert: note: using lambert.db in this folder (left by an older lambert); to keep it "
        f"where lambert now looks, stop lambert and run: mkdir -p {home} && mv lambert.db* {home}/"
    )
    assert not data_db().exists()


def test_help_says_where_the_database_is() -> None:
    assert str(data_db()) in build_parser().format_help()
