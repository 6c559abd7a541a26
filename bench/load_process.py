"""A load generator in a process of its own (`python -m bench.MODULE`), fed one JSON job a line,
and an aiohttp app served on a free loopback port for it to load."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

REPO = Path(__file__).resolve().parents[1]


class LoadProcess:
    """The generator: its first line (`hello`) says it is ready; each job's answer is a line."""

    def __init__(self, module: str, log: Path, *, limit: int = 2**16) -> None:
        self.module, self.log, self.limit = module, log, limit
        self.hello: dict[str, Any] = {}
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> LoadProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("wb"),
            limit=self.limit,
        )
        self.hello = await self._read()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.stdin is not None:
            self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()

    async def job(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job in the generator; its result."""
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(job).encode() + b"\n")
        await self._proc.stdin.drain()
        return await self._read()

    async def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.module} stopped; see {self.log}:\n{self.log.read_text()}")
        result: dict[str, Any] = json.loads(line)
        return result


@contextlib.asynccontextmanager
async def on_loopback(app: web.Application, **runner_options: Any) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
