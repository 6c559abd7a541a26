"""The Slack side of the Slack benchmark, in its own process: a fake Slack and a load generator.

Run by bench/slack_http.py as `python -m bench.slack_load`. Being Slack, it is a separate process
from the apps under test, so the load it generates does not share their CPU time. It speaks
JSON lines: it prints {"fake": URL}; each job line read from stdin is answered with one line of
results; end of input ends it. A job: {"url": events URL} (signed HTTP) or {"socket": app token}
(envelopes over the websocket that app opened), with "n", "concurrency" and "text".

A command's answer is the ack's body (HTTP) or the ack envelope's payload (Socket Mode) when
there is one, else the first post to its response_url; its time is from sending the command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
from aiohttp import WSMsgType, web

from bot.adapters.slack.blocks import ERROR_TEXT
from tests.fakes.slack_platform import (
    SIGNING_SECRET,
    FakeSlack,
    signed_headers,
    slash_command_form,
    slash_command_payload,
)

ANSWER_PATIENCE = 30.0  # seconds to wait for the last answers after the last ack


class TimedSlack(FakeSlack):
    """FakeSlack noting when each response_url post and each Socket Mode ack arrives; each app
    token gets a websocket of its own, so a job can aim at one app."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.arrived: dict[str, float] = {}
        self.error_replies = 0
        self.all_arrived = asyncio.Event()
        self.expected = 0
        self.apps: dict[str, web.WebSocketResponse] = {}
        self.acked: dict[str, asyncio.Future[tuple[float, Any]]] = {}

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        body = super()._answer(method, args, token)
        if method == "apps.connections.open" and body.get("ok") and token:
            body["url"] += f"&app={quote(token)}"
        return body

    async def _response(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.json()
        self.arrived.setdefault(request.match_info["response_id"], arrived)
        if body.get("text") == ERROR_TEXT:
            self.error_replies += 1
        if len(self.arrived) >= self.expected:
            self.all_arrived.set()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        app = parse_qs(urlsplit(str(request.url)).query).get("app", [""])[0]
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.apps[app] = ws
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                waiting = self.acked.pop(str(ack.get("envelope_id")), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result((time.perf_counter(), ack.get("payload")))
        return ws


def _answered(body: Any) -> bool | None:
    """True for an answer, False for an error line, None for an empty ack."""
    if not body:
        return None
    return isinstance(body, dict) and bool(body.get("text")) and body.get("text") != ERROR_TEXT


async def run_job(fake: TimedSlack, job: dict[str, Any]) -> dict[str, Any]:
    n, concurrency, text = int(job["n"]), int(job["concurrency"]), str(job.get("text", "dpo"))
    fake.arrived.clear()
    fake.error_replies = 0
    fake.all_arrived.clear()
    fake.expected = n
    sent: dict[str, float] = {}
    acked: dict[str, float] = {}
    in_ack: dict[str, float] = {}
    statuses: dict[str, int] = {}
    failures: list[str] = []
    errors = 0
    pending = iter(range(n))

    def note(rid: str, status: str, body: Any) -> None:
        nonlocal errors
        now = time.perf_counter()
        acked[rid] = now
        statuses[status] = statuses.get(status, 0) + 1
        answered = _answered(body)
        if answered is not None:
            in_ack[rid] = now
            errors += not answered

    async def http_worker(session: aiohttp.ClientSession) -> None:
        for i in pending:
            rid = f"r{i}"
            body = slash_command_form(text, response_url=fake.response_url(rid))
            headers = signed_headers(SIGNING_SECRET, body)
            sent[rid] = time.perf_counter()
            try:
                async with session.post(job["url"], data=body, headers=headers) as response:
                    raw = await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures.append(f"{rid}: {exc!r}")
                status, raw = type(exc).__name__, b""
            note(rid, status, json.loads(raw) if raw.startswith(b"{") else None)

    async def socket_worker(ws: web.WebSocketResponse) -> None:
        loop = asyncio.get_running_loop()
        for i in pending:
            rid = envelope_id = f"r{i}"
            payload = slash_command_payload(text, response_url=fake.response_url(rid))
            envelope = {
                "envelope_id": envelope_id,
                "type": "slash_commands",
                "payload": payload,
                "accepts_response_payload": True,
            }
            waiting: asyncio.Future[tuple[float, Any]] = loop.create_future()
            fake.acked[envelope_id] = waiting
            sent[rid] = time.perf_counter()
            await ws.send_str(json.dumps(envelope))
            try:
                async with asyncio.timeout(ANSWER_PATIENCE):
                    _at, body = await waiting
                status = "200"
            except TimeoutError:
                failures.append(f"{rid}: no ack")
                status, body = "no ack", None
            note(rid, status, body)

    started = time.perf_counter()
    if "socket" in job:
        ws = fake.apps[str(job["socket"])]
        await asyncio.gather(*(socket_worker(ws) for _ in range(concurrency)))
    else:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(http_worker(session) for _ in range(concurrency)))
    late = [rid for rid in sent if rid not in in_ack]
    if late and job.get("answers", True):
        fake.expected = len(late)
        if len(fake.arrived) < fake.expected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fake.all_arrived.wait(), ANSWER_PATIENCE)
    answered_at = {**{r: t for r, t in fake.arrived.items() if r in sent}, **in_ack}
    if not job.get("answers", True):  # acks only (the bare handler): the ack is all it does
        answered_at = dict(acked)
    answers = [answered_at[rid] - sent[rid] for rid in sent if rid in answered_at]
    return {
        "latencies": [acked[rid] - sent[rid] for rid in sent if rid in acked],
        "answers": answers,
        "wall": max(answered_at.values(), default=started) - started,
        "in_ack": len(in_ack),
        "via_url": len([r for r in fake.arrived if r in sent and r not in in_ack]),
        "statuses": statuses,
        "failures": failures[:5],
        "missing": n - len(answers),
        "error_replies": fake.error_replies + errors,
    }


async def main() -> None:
    async with TimedSlack() as fake:
        print(json.dumps({"fake": fake.base_url}), flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            print(json.dumps(await run_job(fake, json.loads(line))), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
