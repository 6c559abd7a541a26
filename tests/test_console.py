"""The console adapter, driven through injected streams exactly as a terminal user would."""

from __future__ import annotations

import io

from bot.adapters.console import run_console
from bot.runtime import Core

PROMPT = "lambert #console (admin)> "


async def converse(core: Core, *lines: str, interactive: bool = False) -> str:
    out = io.StringIO()
    status = await run_console(
        core, io.StringIO("\n".join(lines) + "\n"), out, interactive=interactive
    )
    assert status == 0
    return out.getvalue()


async def test_a_chat_command_shows_a_quote_with_its_source(core: Core) -> None:
    out = await converse(core, "/lambert id dpo-simplicity")
    assert "On DPO\u2019s simplicity" in out or "On DPO's simplicity" in out
    assert "\u201cDPO\u2019s implementation" in out
    assert "\u2014 Nathan Lambert, Interconnects" in out
    assert "id: dpo-simplicity" in out


async def test_a_paraphrase_is_labelled_and_unquoted(core: Core) -> None:
    out = await converse(core, "id reward-hacking")
    assert "Summary of Nathan Lambert's view" in out
    assert "\u201cOptimizing" not in out


async def test_another_follows_the_last_request(core: Core) -> None:
    out = await converse(core, "dpo", "another", "another")
    assert out.count("DPO vs. PPO: The Optimizer Debate") == 3


async def test_another_before_any_quote_explains(core: Core) -> None:
    out = await converse(core, "another")
    assert "ask for a quote first" in out


async def test_interactive_mode_greets_prompts_and_quits(core: Core) -> None:
    out = await converse(core, "help", "quit", "dpo", interactive=True)
    assert out.startswith("lambert console")
    assert out.count(PROMPT) == 2  # the line after `quit` is never read
    assert "search <words>" in out


async def test_hostile_lines_never_end_the_session(core: Core) -> None:
    out = await converse(core, "AND(", "\u202e\u200b", "x" * 10_000, "\x00", "themes")
    assert "farewell" in out  # the last command still ran


async def test_a_paraphrase_in_a_search_list_is_tagged(core: Core) -> None:
    out = await converse(core, "search sycophancy verbosity")
    assert "[reward-hacking] On reward hacking" in out
    assert "[summary of his view] Optimizing purely" in out


async def test_another_after_the_only_match_says_so(core: Core) -> None:
    out = await converse(core, "id reward-hacking", "another")
    assert out.count("On reward hacking") == 1
    assert "That is the only quote for that request" in out
