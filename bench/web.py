"""The web family: cached pages and API answers per second from the real site (bot/web),
beside a bare aiohttp handler answering a constant, in the same run, from a load generator in
another process (bench/web_load.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from aiohttp import web

from bench.context import REAL, Bench
from bench.load_process import LoadProcess, on_loopback
from bench.report import MISS, PASS, Row, median
from bot.runtime import open_core
from bot.web.app import LIMITS, create_app
from bot.web.site import Site

WEB = "web"
CONCURRENCY = 20


class Load(LoadProcess):
    """`python -m bench.web_load`, fed one job a line."""

    def __init__(self, log: Path) -> None:
        super().__init__("bench.web_load", log)

    async def rate(self, url: str, n: int) -> tuple[float, dict[str, int]]:
        """Requests per second for `n` GETs of `url`, and the statuses seen."""
        result = await self.job({"url": url, "n": n, "concurrency": CONCURRENCY})
        return n / result["wall"], result["statuses"]


def serving(app: web.Application) -> contextlib.AbstractAsyncContextManager[str]:
    return on_loopback(app, **LIMITS)


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
