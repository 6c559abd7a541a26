"""Family 4: INTERACTION_CREATE events through the loopback fake Discord, to the real client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import discord
import yarl
from aiohttp import web

from bench.context import REAL, Bench
from bench.report import MISS, PASS, Row, timed_row
from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client
from bot.chat.replies import ERROR_TEXT
from bot.config import Secret
from bot.runtime import open_core
from tests.fakes.discord_platform import RECORD, FakeDiscord

DISCORD = "discord"
PATIENCE = 10.0  # seconds an interaction may wait for its callback before it counts as lost
CONCURRENT = 25
QUERIES = ("dpo", "reward hacking", "careers", "objective mismatch", "search rubicon", "")
PREFIXES = ("rew", "dpo", "open m", "care", "rlh", "obj")


class TimedDiscord(FakeDiscord):
    """FakeDiscord noting when each interaction's callback arrives, and its outcome."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, asyncio.Future[tuple[float, int, dict[str, Any]]]] = {}

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        response = await super()._interaction_callback(request)
        future = self.waiting.pop(int(request.match_info["iid"]), None)
        if future is not None and not future.done():
            future.set_result((arrived, response.status, request[RECORD].json or {}))
        return response


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """discord.py's REST base and gateway URL aimed at `fake`, as the test fixture does."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base  # type: ignore[misc]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = base  # type: ignore[misc]
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def interaction(fake: FakeDiscord, i: int) -> dict[str, Any]:
    """Every third one is autocomplete (type 4); the others are `/lambert <query>` (type 2)."""
    if i % 3 == 2:
        return fake.autocomplete("lambert", {"query": PREFIXES[i % len(PREFIXES)]})
    return fake.slash_command("lambert", {"query": QUERIES[i % len(QUERIES)]})


async def send(fake: TimedDiscord, payload: dict[str, Any]) -> tuple[float | None, str | None]:
    """Dispatch one interaction; (seconds to its callback, None) or (None, what went wrong)."""
    iid = int(payload["id"])
    fake._interactions[iid] = payload  # what FakeDiscord.send_interaction registers
    future = asyncio.get_running_loop().create_future()
    fake.waiting[iid] = future
    start = time.perf_counter()
    await fake.dispatch("INTERACTION_CREATE", payload)
    try:
        arrived, status, body = await asyncio.wait_for(future, PATIENCE)
    except TimeoutError:
        fake.waiting.pop(iid, None)
        return None, "no callback"
    if status != 200:
        return None, f"callback HTTP {status}"
    if (body.get("data") or {}).get("content") == ERROR_TEXT:
        return None, "error reply"
    return arrived - start, None


async def run(
    fake: TimedDiscord, first: int, n: int, concurrency: int
) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    pending = iter(range(first, first + n))

    async def worker() -> None:
        for i in pending:
            took, error = await send(fake, interaction(fake, i))
            if error is None and took is not None:
                latencies.append(took)
            else:
                errors.append(error or "?")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


async def discord_family(bench: Bench) -> list[Row]:
    n = 200 if bench.quick else 1000
    db = bench.fresh_db("discord")
    settings = replace(bench.settings(REAL, db), discord_token=Secret("fake-token"))
    fake = TimedDiscord()
    await fake.start()
    try:
        async with open_core(settings) as core:
            client = make_client(guild_ready_timeout=0.05)
            platform = DiscordPlatform(settings, core, client=client)
            with pointed_at(fake):
                async with fake.run_client(platform.client):
                    await run(fake, 0, 30, 1)  # warm-up
                    sequential, seq_errors = await run(fake, 30, n, 1)
                    burst, burst_errors = await run(fake, 30 + n, n, CONCURRENT)
                    await fake.settle(PATIENCE)
                await platform.close()
    finally:
        await fake.stop()
    client_errors = len(fake.client_errors) + len(fake.unhandled)
    errors = len(seq_errors) + len(burst_errors) + client_errors
    one = timed_row(
        DISCORD,
        "dispatch to callback, one at a time",
        sequential,
        target_ms=50,
        note="2 of 3 are /lambert <query>, 1 of 3 autocomplete",
    )
    one.verdict = PASS if one.verdict == PASS and errors == 0 else MISS
    many = timed_row(
        DISCORD,
        f"dispatch to callback, {CONCURRENT} at a time",
        burst,
        note="no target: a burst, the fake sharing the process",
    )
    return [
        one,
        many,
        Row(
            DISCORD,
            "errors (lost, non-200 or error callbacks; client errors)",
            2 * n,
            "",
            errors,
            target="0",
            verdict=PASS if errors == 0 else MISS,
            extra={
                "sequential": seq_errors[:5],
                "burst": burst_errors[:5],
                "client": [*fake.client_errors, *fake.unhandled][:5],
            },
        ),
    ]
