"""Pytest fixtures around real `lambert` runs: the fakes they reach, and their processes' end.

A plugin of the root conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.shim.fakes import RemoteSlack, aim_slack
from tests.shim.processes import kill_all


@pytest.fixture
async def slack_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RemoteSlack]:
    """A RemoteSlack that lambert's Slack web client (in this process) is aimed at."""
    async with RemoteSlack() as fake:
        aim_slack(monkeypatch, fake)
        yield fake


@pytest.fixture
async def no_process_left_behind() -> AsyncIterator[None]:
    """Kill every `lambert` process the test started and left running (use with usefixtures)."""
    yield
    await kill_all()
