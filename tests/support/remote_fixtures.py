"""Pytest fixtures around real `lambert` runs: the fakes they reach, and their processes' end.

A plugin of the root conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.shim.fakes import RemoteDiscord, RemoteSlack, aim_discord, aim_slack
from tests.shim.processes import kill_all


@pytest.fixture
async def discord_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RemoteDiscord]:
    """A RemoteDiscord that discord.py (in this process) is aimed at."""
    fake = RemoteDiscord()
    await fake.start()
    aim_discord(monkeypatch, fake)
    try:
        yield fake
    finally:
        if fake.hold_posts is not None:
            fake.hold_posts.set()
        await fake.stop()


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
