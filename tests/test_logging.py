"""Logs: one line per command with platform and outcome, no quote text, secrets blanked."""

from __future__ import annotations

import io
import json
import logging
import re

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


# Tokens no setting names (a workspace's, from the installs table), in Slack's documented forms.
UNLISTED_TOKENS = [
    "xoxb-1234-5678-aBcD3fGh",  # a bot token
    "xoxp-1234-5678-9012-ffff",  # a user token
    "xapp-1-A0123-4567-abcdef",  # an app-level token (Socket Mode)
    "xoxe-1-My0xLTEyMzQtYWJj",  # a refresh token
    "xoxe.xoxb-1-MS0yLTEyMzQ",  # a rotating bot token
    "xoxe.xoxp-1-Mi0yLTEyMzQ",  # a rotating (configuration) user token
    "xoxa-2-legacy-workspace",
    "xoxr-legacy-refresh-token",
]


@pytest.mark.parametrize("token", UNLISTED_TOKENS)
def test_slack_tokens_no_setting_names_are_blanked_by_their_form(token: str) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", ["xoxb-canary-secret"], stream=stream)
    try:
        raise RuntimeError(f"invalid_auth for {token}")
    except RuntimeError:
        logging.getLogger("lambert.test").exception("posting with %s (%r)", token, {"t": token})
        logging.getLogger("lambert.test").warning(f"refreshing {token}.")
    finally:
        root.handlers[:], root.level = saved
    text = stream.getvalue()
    assert token not in text
    assert "xoxe." not in text  # no part of it left
    # the two args, the exception text, the f-string message
    assert text.count(REDACTED) == 4
    assert f"refreshing {REDACTED}." in text


def test_text_that_only_resembles_a_token_is_kept() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", [], stream=stream)
    try:
        logging.getLogger("lambert.test").warning("xoxb_style notxoxb-1 xoxo-1 T0AAA/C0BARE")
    finally:
        root.handlers[:], root.level = saved
    assert "xoxb_style notxoxb-1 xoxo-1 T0AAA/C0BARE" in stream.getvalue()


def test_one_shot_commands_log_warnings_only_unless_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["ask", "dpo"]) == 0
    assert "command platform=" not in capsys.readouterr().err
    monkeypatch.setenv("LOG_LEVEL", "info")
    assert main(["ask", "dpo"]) == 0
    assert "INFO    bot.chat.grammar: command platform=console" in capsys.readouterr().err


def test_json_lines_one_object_per_record_secrets_blanked() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    # A secret JSON would escape ("\"): blanked before encoding, where it is still as written.
    secret = 'canary"secret\\token'
    setup_logging("DEBUG", [secret], "json", stream=stream)
    try:
        logging.getLogger("lambert.test").info("logged in with %s", secret)
        try:
            raise RuntimeError(f"auth failed for {secret} and xoxb-1234-5678-aBcD")
        except RuntimeError:
            logging.getLogger("lambert.test").exception("line\nbreak")
    finally:
        root.handlers[:], root.level = saved
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert [(r["level"], r["logger"]) for r in records] == [
        ("INFO", "lambert.test"),
        ("ERROR", "lambert.test"),
    ]
    assert records[0]["message"] == f"logged in with {REDACTED}"
    assert records[1]["message"] == "line\nbreak"
    assert "RuntimeError: auth failed for [redacted] and [redacted]" in records[1]["exception"]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", r["time"]) for r in records
    )
    text = stream.getvalue()
    assert "canary" not in text and "xoxb-1234" not in text


def test_log_format_is_read_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "info")
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert main(["ask", "dpo"]) == 0
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert any(r["message"].startswith("command platform=console") for r in logged)
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    assert main(["ask", "dpo"]) == 2
    assert (
        "LOG_FORMAT='yaml' is not a format; use LOG_FORMAT=text or json" in capsys.readouterr().err
    )


def test_psycopg_pipeline_noise_is_quiet_but_its_errors_are_not() -> None:
    """A PostgreSQL server lost mid-transaction makes psycopg warn "error ignored terminating"
    its pipeline while the error itself goes up to us (tests/test_database_dies.py counts the
    lines a tick prints then): that warning is dropped, psycopg's errors are kept."""
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    psycopg_log = logging.getLogger("psycopg")
    psycopg_log.warning("error ignored terminating %r: %s", "<AsyncPipeline>", "server closed")
    psycopg_log.error("a real psycopg error")
    assert stream.getvalue().splitlines()[-1].endswith("psycopg: a real psycopg error")
    assert "error ignored terminating" not in stream.getvalue()
