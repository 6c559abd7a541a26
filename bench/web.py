"""The web family: cached pages and API answers per second from the real site (bot/web),
beside a bare aiohttp handler answering a constant, in the same run, from a load generator in
another process (bench/web_load.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.context import REAL, Bench
from bench.report import MISS, PASS, Row, median
from bot.runtime import open_core
from bot.web.app import LIMITS, create_app
from bot.web.site import Site

WEB = "web"
REPO = Path(__file__).resolve().parents[1]
CONCURRENCY = 20


class Load:
    """`python -m bench.web_load`, fed one job a line."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Load:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.web_load",
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("wb"),
        )
        await self._read()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.stdin is not None:
            self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()

    async def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench.web_load stopped; see {self.log}")
        result: dict[str, Any] = json.loads(line)
        return result

    async def rate(self, url: str, n: int) -> tuple[float, dict[str, int]]:
        """Requests per second for `n` GETs of `url`, and the statuses seen."""
        assert self._proc is not None and self._proc.stdin is not None
        job = {"url": url, "n": n, "concurrency": CONCURRENCY}
        self._proc.stdin.write(json.dumps(job).encode() + b"\n")
        await self._proc.stdin.drain()
        result = await self._read()
        return n / result["wall"], result["statuses"]


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None, **LIMITS)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def bare_app() -> web.Application:
    """The least an aiohttp server can do: a constant answer."""

    async def handle(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handle)
    return app


async def web_family(bench: Bench) -> list[Row]:
    """Rounds alternate page, API and bare so a machine busy with other work slows all three
    alike; the figure is the median over rounds."""
    rounds = 1 if bench.quick else 5
    n = 1000 if bench.quick else 3000
    db = await bench.loaded_db(REAL)
    rates: dict[str, list[float]] = {"page": [], "api": [], "bare": []}
    bad: dict[str, int] = {}
    async with open_core(bench.settings(REAL, db)) as core:
        quote = (await core.quotes.quotes())[0]
        async with (
            Load(bench.workdir / "web_load.log") as load,
            serving(create_app(Site(core.quotes))) as site,
            serving(bare_app()) as bare,
        ):
            urls = {
                "page": f"{site}/q/{quote.id}",
                "api": f"{site}/api/v1/quotes/{quote.id}",
                "bare": f"{bare}/",
            }
            for url in urls.values():  # warm-up: connections, and the pages rendered once
                await load.rate(url, 200)
            for _ in range(rounds):
                for name, url in urls.items():
                    rate, statuses = await load.rate(url, n)
                    rates[name].append(rate)
                    for status, count in statuses.items():
                        if status != "200":
                            bad[status] = bad.get(status, 0) + count
    bare_rate = median(rates["bare"])
    rows = []
    for name, label in (("page", "cached permalink page"), ("api", "cached API quote")):
        rate = median(rates[name])
        rows.append(
            Row(
                WEB,
                f"{label} requests per second, concurrency {CONCURRENCY}",
                n * rounds,
                "/s",
                rate,
                min(rates[name]),
                target="≥ ½ bare handler's",
                limit=f"bare aiohttp handler {bare_rate:,.0f}/s",
                verdict=PASS if rate >= bare_rate / 2 and not bad else MISS,
                note=f"{rate / bare_rate:.2f}× the bare handler (p99 column: the slowest round)"
                + (f"; non-200 answers: {bad}" if bad else ""),
                extra={"rates": rates[name], "bare_rates": rates["bare"]},
            )
        )
    return rows
