"""`lambert` as real subprocesses that reach the loopback fakes through sitecustomize.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from tests.shim.fake_endpoints import DISCORD_URL, SLACK_URL
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.support.paths import CORPUS

SHIM = Path(__file__).parent
PATIENCE = 30.0  # seconds any one process may take; a tick takes about one
POLL = 0.005  # the fakes live in this loop: waiting on them is a short sleep, not a busy loop


def lambert_env(
    db: Path, discord: RemoteDiscord, slack: RemoteSlack, **variables: str
) -> dict[str, str]:
    """A `lambert` subprocess's whole environment: the fakes' addresses, no proxies, no
    developer settings; `variables` (tokens, LOG_LEVEL...) on top."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(SHIM),
        "LAMBERT_DB": str(db),
        "LAMBERT_CORPUS": str(CORPUS),
        DISCORD_URL: discord.urls,
        SLACK_URL: slack.base_url,
        **variables,
    }


async def wait_for(predicate: Any, what: str, seconds: float = PATIENCE) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        await asyncio.sleep(POLL)


class Lambert:
    """One `lambert` subprocess; its output is read as it comes (pipes never fill, and a test
    can wait for a log line)."""

    # Every process started, killed after each test whatever its outcome.
    started: ClassVar[list[Lambert]] = []

    def __init__(self, env: dict[str, str], *argv: str) -> None:
        self.env, self.argv = env, argv
        self._out, self._err = bytearray(), bytearray()
        self.code: int | None = None
        self.seconds = 0.0

    async def start(self) -> Lambert:
        self.began = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *self.argv,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        Lambert.started.append(self)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(self.proc.stdout, self._out)),
            asyncio.create_task(self._read(self.proc.stderr, self._err)),
        ]
        return self

    @staticmethod
    async def _read(stream: asyncio.StreamReader, sink: bytearray) -> None:
        while chunk := await stream.read(1 << 16):
            sink.extend(chunk)

    @property
    def out(self) -> str:
        return self._out.decode(errors="replace")

    @property
    def err(self) -> str:
        return self._err.decode(errors="replace")

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    def signal(self, sig: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):  # it may have exited a moment ago
                self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL

    async def finish(self) -> Lambert:
        await asyncio.wait_for(asyncio.gather(*self._readers, self.proc.wait()), PATIENCE)
        self.code = self.proc.returncode
        self.seconds = time.monotonic() - self.began
        return self


async def kill_all() -> None:
    """SIGKILL every process still running (call after each test, pass or fail)."""
    for process in Lambert.started:
        process.kill()
        await process.proc.wait()
    Lambert.started.clear()
