"""Faults both platform fakes stage the same way: an answer lost after the work was done
(the post is stored), a request held unanswered before any work (a hung platform), and a
server nobody can reach for a while."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from aiohttp import web

K = TypeVar("K")

# "drop" closes the connection unanswered, "late" answers only once the test sets
# `late_release` (the client has given up by then), "503" answers as an edge does.
LOST_ANSWERS = ("drop", "late", "503")
# What an edge (Cloudflare) sends for a 503: HTML, not the platform's JSON error.
EDGE_503 = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


class LostAnswers(Generic[K]):
    """Answers to lose, queued per key (a channel, an API method), each after the work."""

    def __init__(self) -> None:
        self._faults: dict[K, list[str]] = {}
        self.late_release = asyncio.Event()  # a "late" answer goes out once this is set

    def lose(self, key: K, fault: str, times: int) -> None:
        if fault not in LOST_ANSWERS:
            raise ValueError(f"unsupported fault {fault!r}")
        self._faults.setdefault(key, []).extend([fault] * times)

    def next(self, key: K) -> str | None:
        """The fault for this answer to `key`, if one is queued (used up)."""
        faults = self._faults.get(key)
        return faults.pop(0) if faults else None

    async def deliver(
        self, request: web.Request, fault: str | None, answer: web.StreamResponse
    ) -> web.StreamResponse:
        """`answer`, or what `fault` makes of it."""
        if fault == "drop":
            assert request.transport is not None
            request.transport.close()
        elif fault == "late":
            await self.late_release.wait()
        elif fault == "503":
            return web.Response(status=503, text=EDGE_503, content_type="text/html")
        return answer


class Hangs:
    """Requests ("METHOD /path") held with their connection open and nothing done, until the
    test calls release() (the fakes release on stop): a platform that accepts and never answers."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._released = asyncio.Event()
        self.holding: list[web.Request] = []  # requests held, oldest first
        self._cut = False

    def hang(self, method: str, path: str) -> None:
        self._held.add(f"{method} {path}")

    def release(self) -> None:
        self._released.set()

    def cut(self) -> None:
        """From now on, close each held request's connection unanswered (those held already
        and any retry of them), as the client's deadline or an idle timeout in between
        would end it: a test needs no clock for that."""
        self._cut = True
        for request in self.holding:
            self._close(request)

    async def hold(self, request: web.Request) -> None:
        if f"{request.method} {request.path}" in self._held:
            self.holding.append(request)
            if self._cut:
                self._close(request)
            await self._released.wait()

    @staticmethod
    def _close(request: web.Request) -> None:
        if request.transport is not None:
            request.transport.close()


@contextlib.asynccontextmanager
async def unreachable(runner: web.AppRunner, site: web.BaseSite, port: int) -> AsyncIterator[None]:
    """Nothing listens on `port` meanwhile and open connections are closed, so a request is
    refused before anything is sent; yields nothing, and on exit a new site listens on the
    same port: the caller keeps it (`runner.sites`)."""
    await site.stop()
    server = runner.server
    assert server is not None
    for handler in server.connections:
        handler.force_close()
    # aiohttp offers no event for this: each goes once the loop ran its connection_lost.
    while server.connections:  # noqa: ASYNC110
        await asyncio.sleep(0)
    try:
        yield
    finally:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        await web.SockSite(runner, sock).start()
