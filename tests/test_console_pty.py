"""`lambert console` as a real process: in a pseudo-terminal (pexpect), and with piped input."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.shim.processes import SHIM
from tests.support.paths import CORPUS

pytestmark = pytest.mark.slow

PATIENCE = 15  # seconds for any one answer; each comes in milliseconds once started
DPO_THEME = "DPO vs. PPO: The Optimizer Debate"
COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def console_env(tmp_path: Path, **variables: str) -> dict[str, str]:
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


def test_the_console_in_a_real_terminal(tmp_path: Path) -> None:
    env = console_env(
        tmp_path,
        TERM="xterm",
        NO_COLOR="1",
        # pexpect is not a terminal emulator: it would leave the cursor-position question
        # unanswered, and prompt_toolkit would wait for it.
        PROMPT_TOOLKIT_NO_CPR="1",
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console"],
        env=env,
        cwd=str(tmp_path),
        dimensions=(24, 100),
        encoding="utf-8",
        timeout=PATIENCE,
    )
    child.delaybeforesend = None  # no sleep before each key: we wait for output instead
    transcript: list[str] = []

    def expect(text: str) -> None:
        child.expect_exact(text)
        transcript.append(child.before + child.after)

    def expect_drawn(text: str) -> None:
        """`text` as drawn on the screen: prompt_toolkit redraws only what changed, so a
        completion of "dp" may arrive as "dp", cursor and colour codes, then "o"."""
        codes = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"
        child.expect(codes.join(re.escape(c) for c in text))
        transcript.append(child.before + child.after)

    def line(text: str, then: str) -> None:
        child.send(text + "\r")
        expect(then)
        expect(")>")  # the next prompt (its last space is drawn as a cursor move)

    try:
        expect("lambert #console (admin)>")
        child.send("zzqx")
        expect("zzqx")
        child.send("\x03")  # Ctrl-C: the line is dropped, the console stays
        expect("(admin)>")
        child.send("dp\t")  # Tab: the DPO theme
        expect_drawn("dpo")
        line("", DPO_THEME)
        child.send("\x1b[A")  # Up: the line before
        expect_drawn("dpo")
        line("", DPO_THEME)

        line(":as member", "You are now a member in #console.")
        line("daily on 9am UTC", "Only admins can manage the daily quote.")
        line(":as admin", "You are now an admin in #console.")
        line(":time 2025-03-10T08:59Z", "reads 2025-03-10 08:59 UTC")
        line("daily on 9am UTC", "Daily quote on: every day at 09:00 UTC.")
        line(":time 09:00", "[daily quote for #console]")
        line(":time 2025-03-10T18:00Z", "reads 2025-03-10 18:00 UTC")

        child.send("\x04")  # Ctrl-D: leave
        child.expect(pexpect.EOF)
        transcript.append(child.before)
    finally:
        child.close(force=True)
    screen = "".join(transcript)
    assert child.exitstatus == 0, screen
    assert screen.count("[daily quote for #console]") == 1
    assert "\u201czzqx\u201d" not in screen  # Ctrl-C: never answered
    assert not COLOUR.search(screen)  # NO_COLOR
    history = (tmp_path / "data" / "lambert" / "console-history").read_text(encoding="utf-8")
    assert "+dpo" in history and "zzqx" not in history


def test_piped_input_is_answered_in_plain_text(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="dpo\n:as member\ndaily on 9am UTC\n",
        env=console_env(tmp_path, TERM="xterm"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE * 2,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert DPO_THEME in done.stdout
    assert "Only admins can manage the daily quote." in done.stdout
    assert "\x1b" not in done.stdout  # no colour, no cursor moves: not a terminal
    assert "lambert #console" not in done.stdout  # and no prompt
