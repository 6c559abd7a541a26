"""One logging setup for every command: levels from LOG_LEVEL, secrets never printed."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

REDACTED = "[redacted]"
# Slack's tokens by their documented forms, for those no setting names (each workspace's bot
# and refresh tokens, read from the installs table): bot, user, app-level and legacy ones
# (xoxb-, xoxp-, xoxa-, xoxr-, xapp-), refresh tokens (xoxe-1-...) and rotating access and
# configuration tokens (xoxe.xoxb-1-..., xoxe.xoxp-1-...).
TOKEN_PATTERN = re.compile(r"\b(?:xox[abpre]|xoxe\.xox[bp]|xapp)-[A-Za-z0-9-]+")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks every known secret and anything shaped like a Slack
    token, tracebacks included."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        # Longest first, so a secret that contains another is blanked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)


def setup_logging(level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter at INFO (gateway heartbeats, HTTP sessions) drowns our own events.
    for noisy in ("discord", "slack_bolt", "slack_sdk", "aiohttp.access", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
