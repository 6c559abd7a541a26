"""Slack HTTP mode's front door around bolt's handler, whose own request verification checks the
signature (issue 18: the guard's own check saved 12.5 % of a command's CPU, under the fifth
asked, docs/performance.md): what bolt would raise on (a timestamp that is no number, a body
that is not UTF-8 or that its parser chokes on) gets a 400 instead of a 500 and a traceback,
and each refusal (bolt's 401s too) at most one log line per reason a minute."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

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
    """An aiohttp middleware around bolt's handler for POSTs to `path`."""

    def __init__(self, path: str, *, complaints: Complaints | None = None) -> None:
        self.path = path
        self.complaints = complaints or Complaints()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != self.path or request.method != "POST":
            return await handler(request)
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        # bolt's verifier raises on a timestamp int() refuses; its error handler would log each
        if stamp and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            reason = "timestamp is not a number"
        else:
            try:
                response = await handler(request)
            except web.HTTPException:  # aiohttp's own: a body over client_max_size (413)
                raise
            except Exception as exc:  # reading or parsing the body: bolt verifies after that
                reason = f"bolt could not read the body ({type(exc).__name__})"
            else:
                if response.status == 401:  # bolt's verification (its own line is INFO)
                    self.complaints.note("bad, stale or no signature", 401, request.remote)
                return response
        self.complaints.note(reason, 400, request.remote)
        return web.Response(status=400, text=f"{reason}\n")
