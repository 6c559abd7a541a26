"""The PreviewStore, run against SQLite and PostgreSQL: a preview posts once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.previews.store import KEEP, PreviewStore
from tests.support.state import state_engine

NOW = datetime(2025, 6, 2, 9, tzinfo=UTC)
PREVIEW = "slack:T:C:U:1.2"


@pytest.fixture
async def previews(db_path: Path, backend_url: str | None) -> AsyncIterator[PreviewStore]:
    async with state_engine(db_path, backend_url) as engine:
        yield PreviewStore(engine)


async def test_a_claim_is_taken_once_released_on_failure_and_forgotten_after_a_week(
    previews: PreviewStore,
) -> None:
    assert await previews.claim(PREVIEW, "slack", "C", NOW)
    assert not await previews.claim(PREVIEW, "slack", "C", NOW)
    await previews.release(PREVIEW)
    assert await previews.claim(PREVIEW, "slack", "C", NOW)
    await previews.record_posted(PREVIEW, "1.3")
    await previews.release(PREVIEW)  # posted: never released
    assert not await previews.claim(PREVIEW, "slack", "C", NOW + KEEP)
    assert await previews.claim(PREVIEW, "slack", "C", NOW + KEEP + timedelta(1))


async def test_twenty_concurrent_clicks_make_one_claim(previews: PreviewStore) -> None:
    taken = await asyncio.gather(*(previews.claim(PREVIEW, "slack", "C", NOW) for _ in range(20)))
    assert taken.count(True) == 1
    assert await previews.claim("slack:T:C:U:9.9", "slack", "C", NOW)  # another preview


async def test_the_outcome_says_posted_only_once_the_platform_took_the_post(
    previews: PreviewStore,
) -> None:
    assert await previews.outcome(PREVIEW) is None
    assert await previews.claim(PREVIEW, "slack", "C", NOW)
    assert await previews.outcome(PREVIEW) == "posting"  # under way, or its answer was lost
    await previews.release(PREVIEW)
    assert await previews.outcome(PREVIEW) is None
    assert await previews.claim(PREVIEW, "slack", "C", NOW)
    await previews.record_posted(PREVIEW, None)  # Slack's response_url gives no message id
    await previews.release(PREVIEW)  # posted: never released
    assert await previews.outcome(PREVIEW) == "posted"
