"""Shared fixtures: a real database per test, a clean environment, no network but loopback."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.logs import RedactingFormatter
from bot.quotes.service import QuoteService
from bot.runtime import Core, open_core
from tests.shim.fake_endpoints import guard_network
from tests.support.network import NetworkUseError
from tests.support.paths import CORPUS, REPO

EXAMPLE_ENV = REPO / "config.example.env"

pytest_plugins = [
    "tests.support.discord_fixtures",
    "tests.support.slack_fixtures",
    "tests.support.remote_fixtures",
    "tests.support.postgres",
    "tests.support.read_only",
    "tests.support.web",
]

# Every variable config.example.env documents (and so lambert reads): a developer's exported
# SLACK_CLIENT_ID or LAMBERT_STATS must not change what a test sees.
ENV_VARS = tuple(
    sorted(
        set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", EXAMPLE_ENV.read_text("utf-8"), re.MULTILINE))
    )
)


def pytest_configure(config: pytest.Config) -> None:
    # Installed for the whole session: asyncio, aiohttp and the platform SDKs all end in
    # socket.connect / connect_ex, so this catches every library, not just our code.
    guard_network(NetworkUseError)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No developer's .env or exported token leaks into a test; cwd is a fresh folder, and so is
    the user's data folder (the default database's home), for this process and its children."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """`lambert`'s main() points the root logger at this test's stderr (bot/logs.py): after
    the test, that handler and its level go, so a later test's log line never meets a stream
    pytest has closed."""
    root = logging.getLogger()
    level = root.level
    yield
    root.handlers[:] = [h for h in root.handlers if not isinstance(h.formatter, RedactingFormatter)]
    root.setLevel(level)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "lambert.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return load_settings({}, db_path=db_path, corpus_path=CORPUS)


@pytest.fixture
async def core(settings: Settings) -> AsyncIterator[Core]:
    async with open_core(settings) as opened:
        yield opened


@pytest.fixture
def service(core: Core) -> QuoteService:
    return core.quotes
