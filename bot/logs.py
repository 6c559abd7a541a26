"""One logging setup for every command (LOG_LEVEL, LOG_FORMAT, no secrets); failures in one line."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

REDACTED = "[redacted]"
# Slack's documented token forms, for those no setting names (installs' bot and refresh tokens):
# xoxb-, xoxp-, xoxa-, xoxr-, xapp-, refresh xoxe-1-..., rotating xoxe.xoxb-1-..., xoxe.xoxp-1-...
TOKEN_PATTERN = re.compile(r"\b(?:xox[abpre]|xoxe\.xox[bp]|xapp)-[A-Za-z0-9-]+")


class RedactingFormatter(logging.Formatter):
    """Blanks every known secret and Slack-shaped token, tracebacks included."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        # Longest first, so a secret that contains another is blanked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object per record, each field blanked before encoding (where a secret is still
    as written)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return json.dumps({k: self.redact(v) for k, v in fields.items()}, ensure_ascii=False)


def setup_logging(
    level: str,
    secrets: Iterable[str] = (),
    log_format: str = "text",
    stream: TextIO | None = None,
) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter if log_format == "json" else RedactingFormatter
    handler.setFormatter(formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter at INFO (gateway heartbeats, HTTP sessions) drowns our own events.
    for noisy in ("discord", "slack_bolt", "slack_sdk", "aiohttp.access", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # psycopg warns "error ignored terminating <pipeline>" while the error that ended the
    # pipeline (a lost server, say) is already on its way up to us, and we report that one.
    logging.getLogger("psycopg").setLevel(max(logging.getLevelName(level), logging.ERROR))


def one_line(exc: BaseException) -> str:
    """`exc` as its type and the first line of its text, at most 200 characters."""
    lines = str(exc).strip().splitlines()
    name = type(exc).__name__
    return f"{name}: {lines[0][:200]}" if lines else name


class OneLine(logging.Filter):
    """A library's traceback cut to one line: a 60-line one per reconnect buries the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage().partition("\n")[0]
        if record.exc_info and record.exc_info[1] is not None:
            text = f"{text} ({one_line(record.exc_info[1])})"
        record.msg, record.args, record.exc_info, record.exc_text = text, None, None, None
        return True


def quiet(names: Iterable[str]) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLine) for f in logger.filters):
            logger.addFilter(OneLine())
