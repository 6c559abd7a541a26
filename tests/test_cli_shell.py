"""The command line as a shell tool: global options once, one error format with a guess, -V,
--json shapes, completion scripts, colour only on a terminal, the corpus-load progress, the
unknown-variable warning, and what each command imports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from bot.cli import main
from tests.shim.processes import SHIM
from tests.support.cli import run
from tests.support.corpus_gen import write_corpus
from tests.support.paths import CORPUS

PATIENCE = 60  # seconds for a process that loads a generated corpus
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PLATFORM_LIBRARIES = {"discord", "slack_bolt", "slack_sdk", "aiohttp"}
# Never imported by the answer path (issue 22): databases it does not use, servers, images.
HEAVY = PLATFORM_LIBRARIES | {"asyncpg", "sqlalchemy", "prometheus_client", "jinja2", "PIL"}


def env_of(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A whole environment: a fresh database and data folder, the network guard (tests/shim)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(SHIM),
        "LAMBERT_DB": str(tmp_path / "lambert.db"),
        "LAMBERT_CORPUS": str(CORPUS),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        **variables,
    }


def lambert(tmp_path: Path, *argv: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`lambert ARGV` as a process with its streams piped."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        env=env_of(tmp_path, **variables),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=PATIENCE,
    )


def in_terminal(tmp_path: Path, *argv: str, **variables: str) -> str:
    """Everything `lambert ARGV` writes to a pseudo-terminal (both streams), until it exits."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot", *argv],
        env=env_of(tmp_path, PROMPT_TOOLKIT_NO_CPR="1", **variables),
        cwd=str(tmp_path),
        dimensions=(24, 100),
        encoding="utf-8",
        timeout=PATIENCE,
    )
    output = child.read()
    child.close()
    return str(output)


# --- the global options, listed once ---------------------------------------------------------


def test_global_options_are_listed_by_lambert_help_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, top, _ = run(capsys, "--help")
    assert code == 0 and len(re.findall(r"^  --database-url URL", top, flags=re.MULTILINE)) == 1
    for command in (["ask"], ["daily", "set"], ["stats"], ["db", "copy"]):
        code, out, _ = run(capsys, *command, "--help")
        assert code == 0
        assert not re.search(r"^\s*--(db|corpus|database-url)\b", out, flags=re.MULTILINE)
        assert "[--db" not in out and "[--corpus" not in out


def test_a_global_option_after_the_command_still_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "after.db"
    assert main(["ask", "dpo", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["quote"]["theme"] == "dpo-vs-ppo"
    assert db.exists()


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    code, out, _ = run(capsys, flag)
    assert code == 0 and re.fullmatch(r"lambert \d+\.\d+\.\d+\n", out)


# --- one error format, with a guess ---------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["dpo"], "lambert: 'dpo' is not a command. Did you mean: lambert ask dpo?\n"),
        (
            ["reward", "hacking"],
            "lambert: 'reward' is not a command. Did you mean: lambert ask reward hacking?\n",
        ),
        (["serach", "x"], "lambert: 'serach' is not a command. Did you mean: lambert search x?\n"),
        (["them"], "lambert: 'them' is not a command. Did you mean: lambert themes?\n"),
        (
            ["daily", "sett", "--tz", "UTC"],
            "lambert: 'sett' is not a command. Did you mean: lambert daily set --tz UTC?\n",
        ),
        (
            ["--db", "x.db", "it's"],
            "lambert: \"it's\" is not a command. Did you mean: lambert ask 'it'\"'\"'s'?\n",
        ),
    ],
)
def test_a_word_that_is_no_command_gets_a_guess(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert run(capsys, *argv) == (2, "", said)


@pytest.mark.parametrize(
    ("argv", "first", "hint"),
    [
        (["search"], "lambert: the following arguments are required: TEXT", "lambert search"),
        (
            ["daily", "set", "--platform", "irc"],
            "lambert: argument --platform: invalid choice: 'irc' (choose from 'console', "
            "'discord', 'slack')",
            "lambert daily set",
        ),
        (
            ["daily", "list", "--bogus"],
            "lambert: unrecognized arguments: --bogus",
            "lambert daily list",
        ),
        (["--bogus"], "lambert: unrecognized arguments: --bogus", "lambert"),
        (
            ["completion", "tcsh"],
            "lambert: argument shell: invalid choice: 'tcsh'",
            "lambert completion",
        ),
        (
            ["discord", "fly"],
            "lambert: 'fly' is not a command of lambert discord",
            "lambert discord",
        ),
    ],
)
def test_usage_errors_say_lambert_and_where_to_read_more(
    capsys: pytest.CaptureFixture[str], argv: list[str], first: str, hint: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith(first)
    assert lines[1] == f"Try '{hint} --help'."


def test_a_command_that_refuses_uses_the_same_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db") == (
        2,
        "",
        "lambert: say what to do: lambert db copy --to postgresql://..., "
        "or lambert db rotate-key\n",
    )
    code, _, err = run(capsys, "search", "x", "--limit", "0")
    assert code == 2 and err == "lambert: --limit takes a number from 1 to 100\n"


# --- --json where a command reports ----------------------------------------------------------


def test_health_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "lambert.db")
    code, out, _ = run(capsys, "health", "--db", db, "--json")
    assert code == 1
    assert json.loads(out) == {
        "ok": False,
        "database": {
            "ok": False,
            "path": db,
            "problem": "lambert has not run here yet (check LAMBERT_DB)",
            "warning": None,
        },
        "postgresql": None,
        "platforms": [],
    }
    assert main(["ask", "dpo", "--db", db]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "health", "--db", db, "--json")
    assert code == 0
    assert json.loads(out) == {
        "ok": True,
        "database": {"ok": True, "path": db, "problem": None, "warning": None},
        "postgresql": None,
        "platforms": [],
    }


def test_backup_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, copy = tmp_path / "lambert.db", tmp_path / "copy.db"
    assert main(["ask", "dpo", "--db", str(db)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "backup", str(copy), "--db", str(db), "--json")
    payload = json.loads(out)
    assert code == 0 and set(payload) == {"source", "target", "pages"}
    assert (payload["source"], payload["target"]) == (str(db), str(copy))
    assert payload["pages"] == copy.stat().st_size // 4096 > 0


def test_discord_invite_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "discord", "invite", "--client-id", "1234567890", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["client_id"] == "1234567890"
    assert set(payload) == {"client_id", "server_url", "user_install_url"}
    assert "client_id=1234567890" in payload["server_url"]
    assert "client_id=1234567890" in payload["user_install_url"]


# --- shell completion ------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_completion_script_names_every_command(
    capsys: pytest.CaptureFixture[str], shell: str
) -> None:
    code, script, err = run(capsys, "completion", shell)
    assert (code, err) == (0, "")
    for word in ("ask", "search", "themes", "daily", "tick", "copy", "invite", "adopt"):
        assert re.search(rf"\b{word}\b", script), word
    assert "--database-url" in script or "database-url" in script


def complete(script: Path, line: str) -> list[str]:
    """What bash offers for the last word of `line` (a trailing space: a new word)."""
    words = line.split() + ([""] if line.endswith(" ") else [])
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        '_lambert; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "-c", program], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_the_bash_script_parses_registers_and_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "lambert.bash"
    script.write_text(run(capsys, "completion", "bash")[1])
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    registered = subprocess.run(
        ["bash", "--norc", "-c", f"source {script} && complete -p lambert"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert registered.stdout.strip() == "complete -F _lambert lambert"
    assert complete(script, "lambert da") == ["daily"]
    assert complete(script, "lambert daily ") == ["set", "off", "list", "tick", "-h", "--help"]
    assert complete(script, "lambert daily set --platform ") == ["console", "discord", "slack"]
    assert complete(script, "lambert --data") == ["--database-url"]
    assert complete(script, "lambert completion ") == ["bash", "zsh", "fish", "-h", "--help"]
    (tmp_path / "backup-here.db").touch()
    assert complete(script, f"lambert backup {tmp_path}/backup-") == [f"{tmp_path}/backup-here.db"]


def shell(name: str) -> str:
    """The shell's path; missing, a failure under CI (.ci/run installs it), else a skip."""
    found = shutil.which(name)
    if found is None:
        missing = f"{name} is not installed (Debian package {name})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    return found


def test_the_zsh_script_parses_and_registers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zsh = shell("zsh")
    script = tmp_path / "_lambert"
    script.write_text(run(capsys, "completion", "zsh")[1])
    assert subprocess.run([zsh, "-n", str(script)], check=False).returncode == 0
    program = (
        f"autoload -U compinit; compinit -u -d {tmp_path}/zcompdump; source {script}; "
        "print -r -- $_comps[lambert]"
    )
    done = subprocess.run(
        [zsh, "-f", "-c", program], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "_lambert"


def test_the_fish_script_parses_and_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fish = shell("fish")
    script = tmp_path / "lambert.fish"
    script.write_text(run(capsys, "completion", "fish")[1])
    assert subprocess.run([fish, "--no-execute", str(script)], check=False).returncode == 0

    def complete(line: str) -> list[str]:
        program = f"source {script}; complete -C {line!r}"
        done = subprocess.run(
            [fish, "--no-config", "-c", program],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert complete("lambert da") == ["daily"]
    assert complete("lambert daily ") == ["list", "off", "set", "tick"]
    assert complete("lambert daily set --platform ") == ["console", "discord", "slack"]
    assert complete("lambert completion ") == ["bash", "fish", "zsh"]


# --- colour on a terminal only ---------------------------------------------------------------


def test_errors_and_headings_are_coloured_in_a_terminal(tmp_path: Path) -> None:
    said = in_terminal(tmp_path, "dpo", TERM="xterm")
    assert "\x1b[31mlambert:\x1b[0m 'dpo' is not a command" in said
    listed = in_terminal(tmp_path, "themes", TERM="xterm")
    assert "\x1b[1mdpo-vs-ppo" in listed


@pytest.mark.parametrize("variables", [{"TERM": "xterm", "NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_colour_when_the_environment_says_so(tmp_path: Path, variables: dict[str, str]) -> None:
    said = in_terminal(tmp_path, "dpo", **variables)
    assert "lambert: 'dpo' is not a command" in said and not ANSI.search(said)
    assert not ANSI.search(in_terminal(tmp_path, "themes", **variables))


def test_no_colour_through_a_pipe(tmp_path: Path) -> None:
    for argv in (["dpo"], ["themes"]):
        done = lambert(tmp_path, *argv, TERM="xterm")
        assert not ANSI.search(done.stdout + done.stderr)
    assert lambert(tmp_path, "dpo").stderr.startswith("lambert: 'dpo'")


# --- the progress of a big corpus load -------------------------------------------------------


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 2.3 MB: over the size from which a load shows its progress."""
    return write_corpus(tmp_path_factory.mktemp("big"), 6_500)


def test_a_big_load_prints_a_line_per_tenth_into_a_pipe(tmp_path: Path, big_corpus: Path) -> None:
    done = lambert(tmp_path, "ask", "dpo", LAMBERT_CORPUS=str(big_corpus))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "lambert: loading the corpus: 2.3 MB, once after each change"
    assert lines[1:] == [
        f"lambert: loading the corpus: {10 * k}% ({650 * k:,} of 6,500 quotes)"
        for k in range(1, 11)
    ]
    again = lambert(tmp_path, "ask", "dpo", LAMBERT_CORPUS=str(big_corpus))
    assert (again.returncode, again.stderr) == (0, ""), "an unchanged corpus is not loaded"


def test_json_and_a_small_corpus_load_silently(tmp_path: Path, big_corpus: Path) -> None:
    done = lambert(tmp_path, "ask", "dpo", "--json", LAMBERT_CORPUS=str(big_corpus))
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["matches"] >= 0
    small = lambert(tmp_path / "..", "ask", "dpo", LAMBERT_DB=str(tmp_path / "small.db"))
    assert (small.returncode, small.stderr) == (0, "")


def test_a_big_load_draws_a_bar_in_a_terminal(tmp_path: Path, big_corpus: Path) -> None:
    said = in_terminal(tmp_path, "ask", "dpo", TERM="xterm", LAMBERT_CORPUS=str(big_corpus))
    plain = ANSI.sub("", said)
    assert "lambert: loading the corpus (2.3 MB" in plain
    assert "6500/6500" in plain.replace(",", "")
    assert "% (" not in plain  # the bar, not the lines a pipe gets


# --- variables lambert does not read ---------------------------------------------------------


def test_a_misspelt_variable_gets_one_warning_naming_the_right_one(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKN=xoxb-1\n")
    done = lambert(tmp_path, "themes", DISCORD_TOKN="abc", LAMBERT_NOTHING_LIKE_IT="1")
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "lambert: warning: DISCORD_TOKN is not a setting lambert reads; did you mean "
        "DISCORD_TOKEN?",
        "lambert: warning: LAMBERT_NOTHING_LIKE_IT is not a setting lambert reads; "
        "config.example.env lists the settings",
        "lambert: warning: SLACK_BOT_TOKN is not a setting lambert reads; did you mean "
        "SLACK_BOT_TOKEN?",
    ]
    assert "xoxb-1" not in done.stderr and "abc" not in done.stderr


# --- what a command imports ------------------------------------------------------------------

IMPORTS = """
import json, sys
from bot.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def imported(tmp_path: Path, *argv: str) -> set[str]:
    """The top-level packages `lambert ARGV` imports, in a fresh process without the test
    shim (which imports its own), the corpus already loaded."""
    env = env_of(tmp_path)
    del env["PYTHONPATH"]
    assert lambert(tmp_path, "themes").returncode == 0  # loads the corpus: ask then finds it
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS, *argv],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[str] = json.loads(done.stdout.splitlines()[-1])
    return {m for m in found if not m.startswith("_")}


def imported_packages(tmp_path: Path, *argv: str) -> set[str]:
    """imported(), outside the standard library."""
    return imported(tmp_path, *argv) - set(sys.stdlib_module_names)


@pytest.mark.parametrize("argv", [["ask", "dpo"], ["search", "reward"], ["themes"]])
def test_the_answer_path_imports_only_what_it_runs(tmp_path: Path, argv: list[str]) -> None:
    packages = imported(tmp_path, *argv)
    assert packages - set(sys.stdlib_module_names) == {"aiosqlite", "bot", "platformdirs"}
    # Nor the standard library's parts it does not run: an unchanged corpus is not parsed
    # (tomllib), let alone in a child process (multiprocessing); nothing speaks HTTP or mail.
    assert not packages & {"multiprocessing", "tomllib", "xml", "email", "http"}


def test_help_imports_no_platform_or_database_library(tmp_path: Path) -> None:
    assert imported_packages(tmp_path, "--help") == {"bot", "platformdirs"}
    assert not imported_packages(tmp_path, "daily", "--help") & HEAVY


def test_the_test_shims_own_variables_are_not_warned_of(tmp_path: Path) -> None:
    done = lambert(tmp_path, "themes", LAMBERT_FAKE_DISCORD_URL="http://127.0.0.1:9")
    assert (done.returncode, done.stderr) == (0, "")


def test_daily_set_and_off_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "lambert.db")]
    where = ["--platform", "console", "--channel", "general"]
    code, out, _ = run(
        capsys, "daily", "set", *where, "--time", "9am", "--tz", "Europe/Berlin", *db, "--json"
    )
    schedule = json.loads(out)
    assert code == 0 and schedule["time"] == "09:00" and schedule["enabled"] is True
    code, out, _ = run(capsys, "daily", "list", *db, "--json")
    assert json.loads(out) == {"schedules": [schedule]}, "set prints what list shows"
    code, out, _ = run(capsys, "daily", "off", *where, *db, "--json")
    assert (code, json.loads(out)) == (
        0,
        {"platform": "console", "channel": "general", "enabled": False},
    )
