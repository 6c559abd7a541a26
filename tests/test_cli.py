"""The `lambert` command line, run in-process as a script would call it, plus one real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.terminal import render
from bot.chat.context import RequestContext
from bot.chat.grammar import answer
from bot.cli import main
from bot.config import load_settings
from bot.runtime import open_core
from tests.support.paths import CORPUS, REPO


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    payload: dict[str, Any] = json.loads(out)
    return payload


@pytest.mark.parametrize(
    ("text", "theme"),
    [("dpo", "dpo-vs-ppo"), ("rlhf", "post-training"), ("farewell", "farewell")],
)
def test_ask_json_gives_a_quote_of_the_theme(
    capsys: pytest.CaptureFixture[str], text: str, theme: str
) -> None:
    payload = run_json(capsys, "ask", text)
    quote = payload["quote"]
    assert quote["theme"] == theme
    assert set(quote) == {
        "id", "text", "kind", "theme", "theme_title", "topic", "source", "quotes_in_part"
    }  # fmt: skip
    assert payload["matches"] >= 1


def test_ask_json_with_no_match_is_an_answer_not_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = run_json(capsys, "ask", "zzqx", "wvvq")
    assert payload["quote"] is None
    assert "No quote matches" in payload["message"]


def test_search_ranks_the_reward_hacking_entry_first(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(capsys, "search", "reward hacking")
    assert payload["results"][0]["id"] == "reward-hacking"
    assert payload["total"] == len(payload["results"]) or payload["total"] > 5


@pytest.mark.parametrize("typo", ["reward hackng", "sycophncy"])
def test_search_finds_through_typos(capsys: pytest.CaptureFixture[str], typo: str) -> None:
    payload = run_json(capsys, "search", typo)
    assert payload["results"][0]["id"] == "reward-hacking"


def test_search_limit_and_theme(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(capsys, "search", "open", "--limit", "2", "--theme", "geopolitics")
    assert len(payload["results"]) <= 2
    assert {r["theme"] for r in payload["results"]} == {"geopolitics"}
    assert main(["search", "open", "--theme", "nonsense"]) == 2
    assert "unknown theme" in capsys.readouterr().err


def test_themes_json(capsys: pytest.CaptureFixture[str]) -> None:
    themes = run_json(capsys, "themes")["themes"]
    assert len(themes) == 9
    dpo = next(t for t in themes if t["slug"] == "dpo-vs-ppo")
    assert dpo["title"] == "DPO vs. PPO: The Optimizer Debate"
    assert "dpo" in dpo["aliases"] and dpo["count"] == 9
    assert sum(t["count"] for t in themes) == 77


def test_serve_without_platforms_points_at_the_console(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "lambert console" in err and "config.example.env" in err


def test_db_and_corpus_options_win_over_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAMBERT_DB", str(tmp_path / "from-env.db"))
    monkeypatch.setenv("LAMBERT_CORPUS", str(tmp_path / "missing.toml"))
    run_json(capsys, "ask", "dpo", "--db", str(tmp_path / "from-arg.db"), "--corpus", str(CORPUS))
    assert (tmp_path / "from-arg.db").exists()
    assert not (tmp_path / "from-env.db").exists()


def test_a_bad_corpus_exits_1_naming_the_file_and_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        CORPUS.read_text(encoding="utf-8").replace('kind = "quote"', 'kind = "quip"', 1),
        encoding="utf-8",
    )
    assert main(["ask", "dpo", "--corpus", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.toml" in err and "quotes[0]" in err and "quip" in err
    assert "Traceback" not in err


def test_a_bad_setting_exits_2_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBERT_SLACK_PORT", "eighty")
    assert main(["themes"]) == 2
    assert "LAMBERT_SLACK_PORT" in capsys.readouterr().err


def test_dotenv_in_the_working_directory_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"LAMBERT_DB={tmp_path / 'dotenv.db'}\n", encoding="utf-8")
    run_json(capsys, "ask", "dpo")
    assert (tmp_path / "dotenv.db").exists()


def test_help_explains_itself_in_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    for word in ("console", "serve", "ask", "search", "themes", "config.example.env"):
        assert word in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["themes"],
        ["themes", "--json"],
        ["search", "model", "--limit", "100"],
        ["ask", "dpo", "--json"],
        ["daily", "list"],
        ["stats"],
        ["health"],
    ],
)
def test_a_reader_gone_before_the_output_ends_it_quietly(
    tmp_path: Path, command: list[str]
) -> None:
    """`lambert COMMAND | true`: the reader is gone; no traceback, the shell's 141."""
    env = {**os.environ, "LAMBERT_DB": str(tmp_path / "lambert.db"), "PYTHONPATH": str(REPO)}
    env.pop("LAMBERT_DATABASE_URL", None)
    reader, writer = os.pipe()
    os.close(reader)  # as `| true` does before lambert writes: deterministic, no race
    with subprocess.Popen(
        [sys.executable, "-m", "bot", *command],
        env=env,
        cwd=tmp_path,
        stdout=writer,
        stderr=subprocess.PIPE,
    ) as process:
        os.close(writer)
        _, err = process.communicate()
    assert (process.returncode, err.decode()) == (141, "")


def write_corpus_without_dpo(path: Path) -> Path:
    """Two themes, `rivers` the fuller one; no `dpo` anywhere."""
    path.write_text(
        "\n".join(
            f'[[themes]]\nslug = "{slug}"\ntitle = "{slug.title()}"\naliases = []\n\n'
            + "".join(
                f'[[quotes]]\nid = "{slug}-{n}"\ntheme = "{slug}"\ntopic = "T"\n'
                f'source = "Test"\nkind = "quote"\ntext = "Words number {n} of {slug}."\n\n'
                for n in range(count)
            )
            for slug, count in (("gardens", 1), ("rivers", 2))
        ),
        encoding="utf-8",
    )
    return path


def test_hints_name_a_theme_of_the_loaded_corpus(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A corpus with no `dpo` theme never suggests `lambert ask dpo`."""
    corpus = write_corpus_without_dpo(tmp_path / "corpus.toml")
    common = ["--corpus", str(corpus), "--db", str(tmp_path / "lambert.db")]
    assert main(["ask", "zzqxv", "flurbish", *common]) == 0
    out = capsys.readouterr().out
    assert "Try a theme such as lambert ask rivers, or see lambert themes." in out
    assert "dpo" not in out


async def test_the_daily_hint_names_a_theme_of_the_loaded_corpus(tmp_path: Path) -> None:
    corpus = write_corpus_without_dpo(tmp_path / "corpus.toml")
    settings = load_settings({}, db_path=tmp_path / "lambert.db", corpus_path=corpus)
    admin = RequestContext(platform="console", channel="general", user="op", admin=True)
    async with open_core(settings) as core:
        reply = await answer(core, "daily on 9am", admin)
    assert "or lambert ask daily on 09:00 Europe/Berlin rivers for one theme" in render(reply)
    assert "dpo" not in render(reply)
