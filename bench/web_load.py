"""The load generator of the web benchmark, in its own process so it does not share the
site's CPU time. Run by bench/web.py as `python -m bench.web_load`; each job line read from
stdin ({"url", "n", "concurrency"}) is answered with one line: {"wall", "statuses"}."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    n, concurrency, url = int(job["n"]), int(job["concurrency"]), str(job["url"])
    left = iter(range(n))
    statuses: dict[str, int] = {}

    async def worker(session: aiohttp.ClientSession) -> None:
        for _ in left:
            try:
                async with session.get(url) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            statuses[status] = statuses.get(status, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return {"wall": time.perf_counter() - started, "statuses": statuses}


async def main() -> None:
    print(json.dumps({"ready": True}), flush=True)
    while line := await asyncio.to_thread(sys.stdin.readline):
        print(json.dumps(await run_job(json.loads(line))), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
