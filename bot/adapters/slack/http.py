"""Slack HTTP mode's front door: refuse what bolt would raise on (a timestamp that is no
number, a body that is not UTF-8 or that its parser chokes on) with a 400 and at most one log
line per reason a minute. bolt's own request verification checks the signature and its age.

The guard checked the signature itself until issue 22's bench: doing it here instead of in
bolt saved 12.5 % of a command's CPU (docs/performance.md), so bolt's check stayed and this one
went (issue 18 asked a fifth of it). bolt parses a body before it verifies it, so what is
left here still runs first."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

from bot.serving.oneline import one_line

log = logging.getLogger(__name__)

LOG_EVERY = 60.0  # seconds between two log lines about one kind of refused request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Complaints:
    """One WARNING line per reason at most every `every` seconds; the next one tells how
    many were refused without a line meanwhile. A flood costs a few lines a minute."""

    every: float = LOG_EVERY
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)
    _unlogged: dict[str, int] = field(default_factory=dict)

    def note(self, reason: str, status: int, peer: str | None) -> None:
        now = self.clock()
        last = self._last.get(reason)
        if last is not None and now - last < self.every:
            self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
            return
        self._last[reason] = now
        more = self._unlogged.pop(reason, 0)
        also = f" (and {more} more in the last {self.every:g} s)" if more else ""
        log.warning(
            "slack: refused a request to /slack/events, %s: %d from %s%s",
            reason,
            status,
            peer or "?",
            also,
        )


class RequestGuard:
    """An aiohttp middleware in front of bolt's handler: only a request bolt can parse and
    verify without raising gets through; bolt then refuses a bad signature with 401."""

    def __init__(self, path: str, *, complaints: Complaints | None = None) -> None:
        self.path = path
        self.complaints = complaints or Complaints()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != self.path or request.method != "POST":
            return await handler(request)
        refusal = await self.refusal(request)
        if refusal is None:
            try:
                response = await handler(request)
            except web.HTTPException:
                raise
            except Exception as exc:  # bolt failed on a request: still no traceback
                refusal = (400, f"bolt could not handle it ({one_line(exc)})")
            else:
                if response.status == 401:  # bolt's verification (its own line is INFO)
                    self.complaints.note("bad or stale signature", 401, request.remote)
                return response
        status, reason = refusal
        self.complaints.note(reason, status, request.remote)
        return web.Response(status=status, text=f"{reason}\n")

    async def refusal(self, request: web.Request) -> tuple[int, str] | None:
        """(status, reason) for a request to refuse; None for one bolt may have."""
        stamp = request.headers.get("X-Slack-Request-Timestamp")
        if not request.headers.get("X-Slack-Signature") or not stamp:
            return 401, "no signature"
        # bolt's verifier raises on a timestamp int() refuses (a 500 and a traceback)
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return 400, "timestamp is not a number"
        if (request.charset or "utf-8").lower() not in ("utf-8", "utf8"):
            return 400, "charset is not UTF-8"
        body = await request.read()  # aiohttp refuses a body over client_max_size with 413
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return 400, "body is not UTF-8"
        if not bolt_can_parse(text, request.headers.get("Content-Type")):
            return 400, "malformed form or JSON body"
        return None


def bolt_can_parse(body: str, content_type: str | None) -> bool:
    """Whether bolt's parse_body gets a dict from `body` without raising (else its listeners
    fail with a traceback). Mirrors slack_bolt.request.internals.parse_body.

    A plain form (a slash command) is not parsed here: bolt parses it with parse_qsl, which
    without strict_parsing never raises on a str, into pairs that always make a dict. Parsing
    it here too was a second parse of every command (docs/performance.md).
    """
    if not body:
        return True
    try:
        if content_type == "application/json" or body.startswith("{"):
            found = json.loads(body)
        elif "payload" in body:
            payload = dict(parse_qsl(body, keep_blank_values=True)).get("payload")
            found = {} if payload is None else json.loads(payload)
        else:
            return True
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return False
    return isinstance(found, dict)
