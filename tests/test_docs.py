"""The README and docs/ tell the truth about the command line and the configuration: every
`lambert ...` command they show parses, and every variable they name is documented in
config.example.env and read by lambert."""

from __future__ import annotations

import re
import shlex

import pytest

from bot.cli import build_parser
from tests.support.paths import REPO

PAGES = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`((?:\.venv/bin/)?lambert [^`]+)`")
# Usage syntax, not a command to run: `lambert ask [TEXT...] [--json]`, `--platform P`.
USAGE = re.compile(r"[\[\]|<>]|\.\.\.|\b(P|C|URL|PATH|DIR|ID|TIME|N|COMMAND|X\.Y\.Z)\b")
VARIABLE = re.compile(r"\b((?:LAMBERT|DISCORD|SLACK)_[A-Z][A-Z0-9_]*)\b")
# Named in the docs on purpose, but not lambert's own configuration.
NOT_SETTINGS = {
    "LAMBERT_CRASH_SEED",  # the crash test's seed (tests/test_crash_recovery.py)
    "DISCORD_TOKN",  # docs/cli.md: the warning a misspelled variable gets
}
# docs/cli.md shows what a mistyped command answers: these are meant not to parse.
MEANT_WRONG = {"lambert serach reward", "lambert dpo", "lambert search"}
EXAMPLE = (REPO / "config.example.env").read_text(encoding="utf-8")
CONFIG = (REPO / "bot" / "config.py").read_text(encoding="utf-8")


def command_lines(text: str) -> list[str]:
    """Each `lambert ...` invocation shown: in code blocks, and inline when not usage syntax."""
    found: list[str] = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip().removeprefix("$ ")
            words = line.split()
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)  # VARIABLE=value before the command
            line = " ".join(words)
            wanted = line.startswith(("lambert ", ".venv/bin/lambert ")) and not USAGE.search(line)
            if wanted and not line.endswith("\\") and line not in MEANT_WRONG:
                found.append(line)
    found += [m for m in INLINE.findall(text) if not USAGE.search(m)]
    return found


CASES = [
    pytest.param(line, id=f"{page.name}:{line}")
    for page in PAGES
    for line in command_lines(page.read_text(encoding="utf-8"))
]


def test_the_docs_show_commands_at_all() -> None:
    assert len(CASES) >= 15


def parses(argv: list[str]) -> bool:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code == 0
    return True


@pytest.mark.parametrize("line", CASES)
def test_every_command_the_docs_show_parses(line: str) -> None:
    argv = shlex.split(re.sub(r"\$\([^)]*\)", "X", line))[1:]  # $(date +%F): one word
    argv = argv[: next((i for i, a in enumerate(argv) if a in (">", "|")), len(argv))]
    # A command named in a sentence (`lambert daily set`) has no arguments: it must exist.
    named_only = not any(a.startswith("-") for a in argv)
    assert parses(argv) or (named_only and parses([*argv, "--help"])), f"{line!r} does not parse"


def named_variables() -> set[str]:
    names: set[str] = set()
    for page in PAGES:
        names |= set(VARIABLE.findall(page.read_text(encoding="utf-8")))
    return names - NOT_SETTINGS


@pytest.mark.parametrize("name", sorted(named_variables()))
def test_every_variable_the_docs_name_is_documented_and_read(name: str) -> None:
    assert re.search(rf"^#?\s*{name}=", EXAMPLE, flags=re.MULTILINE), (
        f"{name} is not in config.example.env"
    )
    assert f'"{name}"' in CONFIG, f"bot/config.py never reads {name}"


def test_every_page_the_readme_links_exists() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)", readme):
        assert (REPO / target).exists(), f"README links {target}, which does not exist"


def test_the_readme_is_one_a_newcomer_finishes() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 150
