"""Family 3: signed slash commands over loopback against the real Slack app (HTTP mode),
beside a bare aiohttp handler that only verifies the signature."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bench.context import REAL, Bench
from bench.report import MISS, PASS, Row, median, p99, timed_row
from bot.adapters.slack.app import EVENTS_PATH, create_platform
from bot.adapters.slack.poster import web_client
from bot.chat.grammar import COMMAND
from bot.config import Secret
from bot.runtime import open_core
from tests.fakes.slack_platform import BOT_TOKEN, SIGNING_SECRET

SLACK = "slack"
REPO = Path(__file__).resolve().parents[1]
CONCURRENCY = 50


class LoadProcess:
    """`python -m bench.slack_load`: the fake Slack and the load generator, in another process."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.fake_url = ""
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> LoadProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.slack_load",
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("wb"),
            limit=2**26,
        )
        self.fake_url = (await self._read())["fake"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
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
            raise RuntimeError(f"bench.slack_load stopped; see {self.log}:\n{self.log.read_text()}")
        result: dict[str, Any] = json.loads(line)
        return result

    async def run(self, url: str, n: int, concurrency: int, responses: bool) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        job = {"url": url, "n": n, "concurrency": concurrency, "responses": responses}
        self._proc.stdin.write(json.dumps(job).encode() + b"\n")
        await self._proc.stdin.drain()
        return await self._read()


@contextlib.asynccontextmanager
async def bare_handler(secret: str) -> AsyncIterator[str]:
    """The least an HTTP-mode Slack app can do: verify the signature and answer 200."""
    verifier = SignatureVerifier(secret)

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        ok = verifier.is_valid(
            body=body,
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=request.headers.get("X-Slack-Signature", ""),
        )
        return web.Response(status=200 if ok else 401)

    app = web.Application()
    app.router.add_post(EVENTS_PATH, handle)
    async with on_loopback(app) as url:
        yield url


@contextlib.asynccontextmanager
async def on_loopback(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its events URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
    finally:
        await runner.cleanup()


def _errors(result: dict[str, Any]) -> int:
    bad = sum(count for status, count in result["statuses"].items() if status != "200")
    return bad + result["missing"] + result["error_replies"]


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds pooled: latencies joined, counts added; throughput is each round's, for a median."""
    statuses: dict[str, int] = {}
    for r in results:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "latencies": [x for r in results for x in r["latencies"]],
        "answers": [x for r in results for x in r["answers"]],
        "rates": [len(r["latencies"]) / r["wall"] for r in results],
        "answer_rates": [len(r["answers"]) / r["answer_wall"] for r in results if r["answer_wall"]],
        "round_p99s": [p99(r["latencies"]) * 1e3 for r in results],
        "statuses": statuses,
        "missing": sum(r["missing"] for r in results),
        "error_replies": sum(r["error_replies"] for r in results),
        "failures": [f for r in results for f in r["failures"]][:5],
    }


@contextlib.asynccontextmanager
async def bolt_ack_only(secret: str, client: AsyncWebClient) -> AsyncIterator[str]:
    """slack-bolt itself: the same AsyncApp plumbing, in the same mode, with a listener that
    only acks."""
    app = AsyncApp(
        name="ack-only", client=client, signing_secret=secret, process_before_response=True
    )

    async def command(ack: Any) -> None:
        await ack()

    app.command(COMMAND)(command)
    async with on_loopback(app.web_app(path=EVENTS_PATH)) as url:
        yield url


async def slack_family(bench: Bench) -> list[Row]:
    """Rounds alternate the app, bolt alone and the bare handler, so a machine busy with other
    work slows all three alike; throughput is the median over rounds."""
    rounds = 1 if bench.quick else 5
    n = 500 if bench.quick else 1000  # per round
    db = bench.fresh_db("slack")
    settings = replace(
        bench.settings(REAL, db),
        slack_bot_token=Secret(BOT_TOKEN),
        slack_signing_secret=Secret(SIGNING_SECRET),
        slack_port=0,
    )
    results: dict[str, list[dict[str, Any]]] = {"app": [], "bolt": [], "bare": []}
    async with (
        LoadProcess(bench.workdir / "slack_load.log") as load,
        open_core(settings) as core,
    ):
        client = web_client(settings, base_url=f"{load.fake_url}/api/")
        platform = create_platform(settings, core, client=client, host="127.0.0.1")
        await platform.start()
        try:
            async with (
                bolt_ack_only(SIGNING_SECRET, client) as bolt_url,
                bare_handler(SIGNING_SECRET) as bare_url,
            ):
                urls = {
                    "app": f"http://127.0.0.1:{platform.port}{EVENTS_PATH}",
                    "bolt": bolt_url,
                    "bare": bare_url,
                }
                for name, url in urls.items():  # warm-up: connections, caches, auth.test
                    await load.run(url, 100, CONCURRENCY, name == "app")
                for _ in range(rounds):
                    for name, url in urls.items():
                        results[name].append(await load.run(url, n, CONCURRENCY, name == "app"))
        finally:
            await platform.close()
    app, bolt, bare = (_merge(results[k]) for k in ("app", "bolt", "bare"))
    total = n * rounds
    app_rate, bolt_rate, bare_rate = (median(r["rates"]) for r in (app, bolt, bare))
    errors = _errors(app)
    ack = timed_row(
        SLACK,
        f"ack latency, concurrency {CONCURRENCY}",
        app["latencies"],
        target_ms=100,
        limit=f"bare handler: median {median(bare['latencies']) * 1e3:.2f}, "
        f"p99 {p99(bare['latencies']) * 1e3:.2f} ms",
    )
    ack.verdict = PASS if ack.verdict == PASS and errors == 0 else MISS
    ack.note = "p99 of each round: " + ", ".join(f"{x:.0f}" for x in app["round_p99s"]) + " ms"
    ack.extra = {"round_p99s_ms": app["round_p99s"]}
    bolt_ack = timed_row(
        SLACK,
        f"ack latency, slack-bolt ack-only app, concurrency {CONCURRENCY}",
        bolt["latencies"],
        note="baseline: the framework's own cost, no answer",
    )
    rows = [
        Row(
            SLACK,
            f"acks per second, concurrency {CONCURRENCY}",
            total,
            "/s",
            app_rate,
            min(app["rates"]),
            target="≥ ½ bare handler's",
            limit=f"bare {bare_rate:,.0f}/s; bolt ack-only {bolt_rate:,.0f}/s",
            verdict=PASS if app_rate >= bare_rate / 2 else MISS,
            note=f"{app_rate / bare_rate:.2f}× the bare handler, {app_rate / bolt_rate:.2f}× bolt "
            "ack-only (p99 column: the slowest round)",
            extra={
                "app_rates": app["rates"],
                "bolt_rates": bolt["rates"],
                "bare_rates": bare["rates"],
            },
        ),
        ack,
        bolt_ack,
        Row(
            SLACK,
            "errors (non-200, missing or failed answers)",
            total,
            "",
            errors,
            target="0",
            verdict=PASS if errors == 0 else MISS,
            extra={
                "statuses": app["statuses"],
                "missing": app["missing"],
                "failures": app["failures"],
            },
        ),
    ]
    if app["answer_rates"]:
        rows.append(
            Row(
                SLACK,
                "answers per second (posted at the response_url)",
                total,
                "/s",
                median(app["answer_rates"]),
                min(app["answer_rates"]),
                note="no target: what the app sustains; acks come first (p99 column: slowest "
                "round)",
            )
        )
    if app["answers"]:
        rows.append(
            timed_row(
                SLACK,
                "command to answer posted at the response_url",
                app["answers"],
                note="no target: the ack, then the answer through respond()",
            )
        )
    return rows
