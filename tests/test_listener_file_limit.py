"""`lambert serve` at its file limit: a real process limited to 256 files, flooded with more
idle connections than that on its Slack port and its probes port, still answers /readyz and a
signed slash command, and logs no traceback (issue 19, point 3)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.slack_platform import BOT_TOKEN, SIGNING_SECRET, signed_headers, slash_command_form
from tests.shim.fake_endpoints import SLACK_URL
from tests.shim.fakes import RemoteSlack
from tests.shim.processes import SHIM
from tests.support.health import get
from tests.support.paths import CORPUS
from tests.support.postgres import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes"),
]

FILES = 256  # the serving process's file limit (systemd's default is 1,024)
FLOOD = 300  # idle connections to each listener: more than the process has files
PATIENCE = 30.0  # seconds for the process to start, and for any answer
# serve under a file limit: resource.setrlimit before `lambert serve` starts.
LIMITED_SERVE = (
    "import resource, runpy, sys; "
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FILES}, resource.getrlimit("
    "resource.RLIMIT_NOFILE)[1])); "
    "sys.argv = ['lambert', 'serve']; runpy.run_module('bot', run_name='__main__')"
)


async def until_ready(port: int, serve: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(PATIENCE):
        while serve.returncode is None:
            try:
                if (await get(port, "/readyz"))[0] == 200:
                    return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)  # polling a process, not timing anything
    raise AssertionError("serve exited before it was ready")


async def test_serve_at_its_file_limit_keeps_answering_commands_and_probes(
    tmp_path: Path,
) -> None:
    slack_port, http_port = free_port(), free_port()
    async with RemoteSlack() as slack:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(SHIM),
            "LAMBERT_DB": str(tmp_path / "lambert.db"),
            "LAMBERT_CORPUS": str(CORPUS),
            SLACK_URL: slack.base_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "LAMBERT_SLACK_PORT": str(slack_port),
            "LAMBERT_HTTP_PORT": str(http_port),
        }
        serve = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LIMITED_SERVE, env=env, stderr=asyncio.subprocess.PIPE
        )
        idle: list[asyncio.StreamWriter] = []
        try:
            await until_ready(http_port, serve)
            opening = [
                asyncio.open_connection("127.0.0.1", port)
                for port in (slack_port, http_port)
                for _ in range(FLOOD)
            ]
            idle += [writer for _reader, writer in await asyncio.gather(*opening)]

            async with asyncio.timeout(PATIENCE):
                assert (await get(http_port, "/readyz"))[0] == 200
                body = slash_command_form("help", response_url=slack.response_url("flooded"))
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(
                        f"http://127.0.0.1:{slack_port}/slack/events",
                        data=body,
                        headers=signed_headers(SIGNING_SECRET, body),
                    ) as acked,
                ):
                    assert acked.status == 200
                    answer = await slack.answer_after(await acked.text(), "flooded")
            assert answer.get("text"), answer
        finally:
            for writer in idle:
                writer.close()
            if serve.returncode is None:
                serve.send_signal(signal.SIGTERM)
            assert serve.stderr is not None
            async with asyncio.timeout(PATIENCE):
                log = (await serve.stderr.read()).decode(errors="replace")
                await serve.wait()

    assert "Traceback" not in log, log[-3000:]
    assert "out of system resource" not in log
    assert len(log.splitlines()) < 30, log[-3000:]
