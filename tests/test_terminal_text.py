"""Terminal output speaks the terminal's language: no markdown backticks, and every hint names
a command the reader can type where they are (`lambert ...` in a shell, chat in the console)."""

from __future__ import annotations

import io

import pytest

from bot.adapters.console import run_console
from bot.adapters.terminal import terminal_text
from bot.cli import main
from bot.runtime import Core


@pytest.mark.parametrize(
    ("text", "cli", "chat"),
    [
        ("`/lambert search dpo` lists them.", "lambert search dpo lists them.", None),
        ("Show one with `/lambert id <id>`.", "Show one with lambert ask id <id>.", None),
        ("see `/lambert themes`", "see lambert themes", None),
        ("`/lambert help`", "lambert --help", "/lambert help"),
        ("`/lambert` on its own", "lambert ask on its own", "/lambert on its own"),
        ("Did you mean `search dpo`?", "Did you mean search dpo?", "Did you mean search dpo?"),
        ("`/lambert daily on 09:00 UTC`", "lambert ask daily on 09:00 UTC", None),
    ],
)
def test_commands_are_named_as_typed_here(text: str, cli: str, chat: str | None) -> None:
    assert terminal_text(text) == cli
    assert terminal_text(text, chat=True) == (chat or text.replace("`", ""))


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["ask", "open", "models"], "lambert search open models lists them"),
        (["ask", "search", "rlhf"], "Show one with lambert ask id <id>."),
        (["ask", "zzqx"], "lambert ask open-source"),  # the corpus's fullest theme
        (["ask", "serach", "dpo"], "Type lambert search dpo"),
        (["search", "rlhf"], "Show one with lambert ask id <id>."),
        (["search", "zzqx"], "Try lambert themes."),
    ],
)
def test_lambert_ask_and_search_name_cli_commands_without_markdown(
    capsys: pytest.CaptureFixture[str], argv: list[str], hint: str
) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert hint in out
    assert "`" not in out and "/lambert" not in out


@pytest.mark.parametrize("argv", [["ask", "help"], ["ask", "themes"], ["themes"]])
def test_help_and_themes_have_no_backticks(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 0
    assert "`" not in capsys.readouterr().out


async def test_the_console_names_chat_commands_without_backticks(core: Core) -> None:
    out = io.StringIO()
    await run_console(core, io.StringIO("search rlhf\nzzqx\nhelp\n"), out, interactive=True)
    text = out.getvalue()
    assert "Show one with /lambert id <id>." in text
    assert "`" not in text
