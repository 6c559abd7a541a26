"""The Slack side of the Slack benchmark, in its own process: a fake Slack and a load generator.

Run by bench/slack_http.py as `python -m bench.slack_load`. Being Slack, it is a separate process
from the app under test, so the load it generates does not share the app's CPU time. It speaks
JSON lines: it prints {"fake": URL}; each job line read from stdin ({"url", "n",
"concurrency", "responses"}) is answered with one line of results; end of input ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

from bot.adapters.slack.blocks import ERROR_TEXT
from tests.fakes.slack_platform import SIGNING_SECRET, FakeSlack, signed_headers, slash_command_form

TEXTS = ("dpo", "reward hacking", "", "search rubicon", "rlhf", "open models", "careers")
ANSWER_PATIENCE = 30.0  # seconds to wait for the last answers after the last ack


class TimedSlack(FakeSlack):
    """FakeSlack noting when each response_url post arrives (and whether it is an error)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.arrived: dict[str, float] = {}
        self.error_replies = 0
        self.all_arrived = asyncio.Event()
        self.expected = 0

    async def _response(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.json()
        self.arrived.setdefault(request.match_info["response_id"], arrived)
        if body.get("text") == ERROR_TEXT:
            self.error_replies += 1
        if len(self.arrived) >= self.expected:
            self.all_arrived.set()
        return web.Response(text="ok")


async def run_job(fake: TimedSlack, job: dict[str, Any]) -> dict[str, Any]:
    n, concurrency = int(job["n"]), int(job["concurrency"])
    fake.arrived.clear()
    fake.error_replies = 0
    fake.all_arrived.clear()
    fake.expected = n
    requests = []
    for i in range(n):
        rid = f"r{i}"
        body = slash_command_form(TEXTS[i % len(TEXTS)], response_url=fake.response_url(rid))
        requests.append((rid, body, signed_headers(SIGNING_SECRET, body)))
    sent: dict[str, float] = {}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failures: list[str] = []
    pending = iter(requests)

    async def worker(session: aiohttp.ClientSession) -> None:
        for rid, body, headers in pending:
            start = time.perf_counter()
            sent[rid] = start
            try:
                async with session.post(job["url"], data=body, headers=headers) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
                failures.append(f"{rid}: {exc!r}")
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    answers: list[float] = []
    answer_wall = None
    if job.get("responses"):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.all_arrived.wait(), ANSWER_PATIENCE)
        answers = [fake.arrived[rid] - sent[rid] for rid in sent if rid in fake.arrived]
        if fake.arrived:
            answer_wall = max(fake.arrived.values()) - started
    return {
        "latencies": latencies,
        "statuses": statuses,
        "failures": failures[:5],
        "wall": wall,
        "answer_wall": answer_wall,
        "answers": answers,
        "missing": n - len(answers) if job.get("responses") else 0,
        "error_replies": fake.error_replies,
    }


async def main() -> None:
    async with TimedSlack() as fake:
        print(json.dumps({"fake": fake.base_url}), flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            print(json.dumps(await run_job(fake, json.loads(line))), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
