"""HTTP mode's front door around bolt's (signature-checking) handler: what bolt would raise on
gets a 400, not a 500, and each refusal (its 401s too) one log line per reason a minute."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.adapters.listening import Ration

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RequestGuard:
    """An aiohttp middleware around bolt's handler for POSTs to `path`."""

    def __init__(self, path: str, *, ration: Ration | None = None) -> None:
        self.path = path
        self.ration = ration or Ration()

    def note(self, reason: str, status: int, peer: str | None) -> None:
        also = self.ration.allow(reason)
        if also is not None:
            log.warning(
                "slack: refused a request to /slack/events, %s: %d from %s%s",
                reason,
                status,
                peer or "?",
                also,
            )

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
                    self.note("bad, stale or no signature", 401, request.remote)
                return response
        self.note(reason, 400, request.remote)
        return web.Response(status=400, text=f"{reason}\n")
