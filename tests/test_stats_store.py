"""One set of stats store tests, run against every backend: counts written through SQLite and
PostgreSQL sum, scope and forget the same way."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.chat.context import RequestContext
from bot.chat.grammar import answer
from bot.config import Secret, Settings
from bot.runtime import open_core
from bot.stats.sql_store import StateStatsStore
from bot.stats.store import (
    COMMAND,
    POSTED,
    QUOTE,
    CountKey,
    Scope,
    WordsKey,
)
from bot.storage.schema import stats_counts
from tests.support.state import state_engine

DAY = date(2025, 3, 10)
EVERYWHERE = Scope()
LONG_AGO = date(2000, 1, 1)


@dataclass
class Backend:
    name: str
    store: StateStatsStore
    replica: Callable[[], AbstractAsyncContextManager[StateStatsStore]]


@pytest.fixture
async def backend(db_path: Path, backend_url: str | None) -> AsyncIterator[Backend]:
    """A store over a real database, and `replica()`: another process's store on it."""

    @asynccontextmanager
    async def replica() -> AsyncIterator[StateStatsStore]:
        async with state_engine(db_path, backend_url) as engine:
            yield StateStatsStore(engine)

    async with replica() as store:
        yield Backend("postgresql" if backend_url else "sqlite", store, replica)


def key(
    day: date = DAY,
    *,
    platform: str = "slack",
    space: str = "T1",
    channel: str = "C1",
    metric: str = COMMAND,
    name: str = "lookup",
    detail: str = "quote",
) -> CountKey:
    return CountKey(day, platform, space, channel, metric, name, detail)


def words(text: str, day: date = DAY, channel: str = "C1", space: str = "T1") -> WordsKey:
    return WordsKey(day, "slack", space, channel, text)


async def test_counts_written_twice_sum(backend: Backend) -> None:
    store = backend.store
    await store.add({key(): 2, key(detail="nothing"): 1}, LONG_AGO)
    await store.add({key(): 3, key(metric=QUOTE, name="dpo-1", detail=""): 1}, LONG_AGO)
    assert sorted(await store.tallies(DAY, EVERYWHERE)) == [
        (COMMAND, "lookup", "nothing", 1),
        (COMMAND, "lookup", "quote", 5),
        (QUOTE, "dpo-1", "", 1),
    ]


async def test_a_window_starts_at_its_first_day(backend: Backend) -> None:
    store = backend.store
    await store.add({key(DAY - timedelta(1)): 4, key(DAY): 1, key(DAY + timedelta(1)): 2}, LONG_AGO)
    assert await store.tallies(DAY, EVERYWHERE) == [(COMMAND, "lookup", "quote", 3)]
    assert await store.by_day(DAY, EVERYWHERE) == [
        (DAY, COMMAND, 1),
        (DAY + timedelta(1), COMMAND, 2),
    ]


async def test_scopes_a_channel_a_workspace_and_everywhere(backend: Backend) -> None:
    store = backend.store
    await store.add(
        {
            key(channel="C1"): 1,
            key(channel="C2"): 2,
            key(space="T2", channel="C3"): 4,
            key(platform="discord", space="G1", channel="9"): 8,
            # A daily post knows no workspace: it counts in its channel's.
            key(space="", channel="C1", metric=POSTED, name="daily", detail=""): 16,
            key(space="", channel="C9", metric=POSTED, name="daily", detail=""): 32,
        },
        LONG_AGO,
    )

    async def commands(scope: Scope) -> int:
        return sum(t.total for t in await store.tallies(DAY, scope) if t.metric == COMMAND)

    async def posted(scope: Scope) -> int:
        return sum(t.total for t in await store.tallies(DAY, scope) if t.metric == POSTED)

    assert await commands(Scope("slack", "T1", "C1")) == 1
    assert await posted(Scope("slack", "T1", "C1")) == 16
    assert await commands(Scope("slack", "T1")) == 3
    assert await posted(Scope("slack", "T1")) == 16  # C9 was never used from T1
    assert await commands(Scope("slack", "T2")) == 4
    assert await commands(Scope("discord", "G1")) == 8
    assert await commands(EVERYWHERE) == 15
    assert await posted(EVERYWHERE) == 48
    assert await store.by_channel(DAY, Scope("slack", "T1")) == [
        ("slack", "C1", COMMAND, 1, "T1"),
        ("slack", "C1", POSTED, 16, ""),  # the summary gives it C1's space
        ("slack", "C2", COMMAND, 2, "T1"),
    ]


async def test_empty_searches_most_first_and_forgotten_before_the_cutoff(
    backend: Backend,
) -> None:
    store = backend.store
    old = DAY - timedelta(days=30)
    await store.add(
        {words("quantum llama", old): 5, words("tokenizer"): 1, words("rlhf book"): 2}, LONG_AGO
    )
    assert await store.empty_searches(old, EVERYWHERE, 10) == [
        ("quantum llama", 5),
        ("rlhf book", 2),
        ("tokenizer", 1),
    ]
    await store.add({words("tokenizer", channel="C2"): 1}, DAY - timedelta(days=29))
    assert await store.empty_searches(LONG_AGO, EVERYWHERE, 10) == [
        ("rlhf book", 2),
        ("tokenizer", 2),
    ]
    assert await store.empty_searches(LONG_AGO, Scope("slack", "T1", "C2"), 10) == [
        ("tokenizer", 1)
    ]
    assert await store.empty_searches(LONG_AGO, EVERYWHERE, 1) == [("rlhf book", 2)]


async def test_replicas_adding_at_once_lose_no_count(backend: Backend) -> None:
    batch = {key(name=f"verb{i}"): 1 for i in range(20)}
    batch[key()] = 1

    async def add_from_another_process() -> None:
        async with backend.replica() as other:
            for _ in range(5):
                await other.add({**batch, words("nothing here"): 1}, LONG_AGO)

    await asyncio.gather(*(add_from_another_process() for _ in range(3)))
    tallies = {t.name: t.total for t in await backend.store.tallies(DAY, EVERYWHERE)}
    assert tallies["lookup"] == 15 and tallies["verb7"] == 15
    assert await backend.store.empty_searches(DAY, EVERYWHERE, 5) == [("nothing here", 15)]


async def test_open_core_counts_into_postgresql_when_a_database_url_is_set(
    settings: Settings, postgres_url: str
) -> None:
    shared = dataclasses.replace(settings, database_url=Secret(postgres_url))
    ctx = RequestContext(platform="slack", channel="C1", space="T1", user="U0SECRET1")
    async with open_core(shared) as core:
        await answer(core, "dpo", ctx)
    # Written when the core closed; read by another replica.
    async with state_engine(settings.db_path, postgres_url) as engine:
        found = await StateStatsStore(engine).tallies(LONG_AGO, Scope("slack", "T1"))
        assert (COMMAND, "theme", "quote", 1) in found
        async with engine.connect() as conn:
            rows = (await conn.execute(stats_counts.select())).all()
    assert rows and all("U0SECRET1" not in str(tuple(r)) for r in rows)
