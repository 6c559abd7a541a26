"""Logs: one line per command with platform and outcome, no quote text, secrets blanked."""

from __future__ import annotations

import io
import logging

import pytest

from bot.chat.grammar import RequestContext, answer
from bot.chat.replies import QuoteReply
from bot.cli import main
from bot.logs import REDACTED, setup_logging
from bot.quotes.service import QuoteService
from bot.runtime import Core


async def test_each_command_logs_one_line_without_the_quote_text(
    core: Core, service: QuoteService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.chat.grammar")
    ctx = RequestContext(platform="slack", channel="C1", user="U1")
    reply = await answer(core, "id reward-hacking", ctx)
    assert isinstance(reply, QuoteReply)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.chat.grammar"]
    assert lines == [
        "command platform=slack channel=C1 user=U1 verb=id quote=reward-hacking matches=1"
    ]
    assert reply.quote.text[:20] not in lines[0]


def test_secrets_are_blanked_even_inside_tracebacks() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", ["xoxb-canary-secret"], stream=stream)
    try:
        raise RuntimeError("auth failed for token xoxb-canary-secret")
    except RuntimeError:
        logging.getLogger("lambert.test").exception("no to Bearer xoxb-canary-secret")
    finally:
        root.handlers[:], root.level = saved
    text = stream.getvalue()
    assert "xoxb-canary-secret" not in text
    assert text.count(REDACTED) == 3  # message, traceback source line, exception text


def test_one_shot_commands_log_warnings_only_unless_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["ask", "dpo"]) == 0
    assert "command platform=" not in capsys.readouterr().err
    monkeypatch.setenv("LOG_LEVEL", "info")
    assert main(["ask", "dpo"]) == 0
    assert "INFO    bot.chat.grammar: command platform=console" in capsys.readouterr().err
