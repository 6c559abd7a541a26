"""OAuth states are signed, not stored (bot/adapters/slack/install_flow.py): a flood of the
unauthenticated install page writes nothing, and a forged, expired or replayed state is refused.
A whole install through them is tests/test_slack_oauth.py's."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack.install_flow import SignedStates
from bot.config import Settings
from bot.runtime import Core
from tests.fakes.slack_platform import CLIENT_SECRET, FakeSlack
from tests.support.slack import base_url, oauth_settings, running_platform

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

FLOOD = 3000


def database_state(path: Path) -> tuple[dict[str, int], int]:
    """Rows in each table, and the bytes of the database with its WAL."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    files = [path, path.with_name(path.name + "-wal")]
    return rows, sum(f.stat().st_size for f in files if f.exists())


async def test_three_thousand_install_pages_write_nothing(
    fake_slack: FakeSlack, core: Core, settings: Settings
) -> None:
    async with running_platform(fake_slack, core, oauth_settings(settings)) as platform:
        before = database_state(settings.db_path)
        url = f"{base_url(platform)}/slack/install"
        async with aiohttp.ClientSession() as session:

            async def page() -> str:
                async with session.get(url) as answer:
                    assert answer.status == 200
                    return answer.headers["Set-Cookie"]

            cookies = []
            for _ in range(FLOOD // 100):
                cookies += await asyncio.gather(*(page() for _ in range(100)))
        after = database_state(settings.db_path)

    assert len(set(cookies)) == FLOOD  # each page its own state
    assert after == before


async def test_a_state_is_good_once_until_it_expires_and_only_with_its_own_signature() -> None:
    now = [1_700_000_000.0]
    states = SignedStates(CLIENT_SECRET, 600, clock=lambda: now[0])
    other_app = SignedStates("another-secret", 600, clock=lambda: now[0])
    fresh, stale, foreign = (
        await states.async_issue(),
        await states.async_issue(),
        await other_app.async_issue(),
    )
    nonce, expiry, mac = fresh.split(".")
    assert await states.async_consume(fresh)
    assert not await states.async_consume(fresh), "a replay"
    assert not await states.async_consume(foreign), "signed with another secret"
    longer = f"{nonce}.{int(expiry) + 3600}.{mac}"
    assert not await states.async_consume(longer), "its expiry pushed back"
    for garbage in ("", ".", "a.b.c", "é.1.x", fresh[:-1], "x" * 10_000):
        assert not await states.async_consume(garbage), garbage
    now[0] += 601
    assert not await states.async_consume(stale), "expired"
