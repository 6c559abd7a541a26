"""The shuffle bag on both backends: it draws from the corpus's ids held in memory, so a claim
never reads the quote tables, and on PostgreSQL a claim is one statement in one transaction."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.daily.store import DailyStore
from bot.quotes.corpus import Corpus
from bot.quotes.models import Kind, Quote, Theme
from bot.quotes.service import QuoteService
from bot.quotes.store import sync_corpus
from bot.storage.schema import daily_bag
from tests.support.state import daily_store

BIG = 20_000
NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)


def big_corpus() -> Corpus:
    """q0, q2, q4 ... in theme `odd`, the rest in `even`."""
    themes = (Theme("odd", "Odd"), Theme("even", "Even"))
    quotes = tuple(
        Quote(f"q{i}", f"Quote number {i}.", Kind.PARAPHRASE, themes[i % 2].slug, "", "T", "S")
        for i in range(BIG)
    )
    return Corpus(themes, quotes, f"big-{BIG}")


@pytest.fixture
async def store(
    db_path: Path, service: QuoteService, backend_url: str | None
) -> AsyncIterator[DailyStore]:
    async with daily_store(db_path, backend_url, service, random.Random(5)) as opened:
        yield opened


async def test_a_claim_never_reads_the_quote_tables(
    db_path: Path, service: QuoteService, backend_url: str | None
) -> None:
    await sync_corpus(service.conn, big_corpus(), "big")
    restarted = await QuoteService.create(service.conn)  # the corpus is read at start
    steps = 0

    def count_step() -> int:
        nonlocal steps
        steps += 1
        return 0  # 0 lets the statement go on

    async with daily_store(db_path, backend_url, restarted, random.Random(5)) as store:
        conn = service.conn
        drawn = []
        await conn.set_progress_handler(count_step, 1)
        try:
            for i, theme in enumerate([None] * 20 + ["odd"] * 20 + ["gone-theme"] * 20):
                claim = await store.claim("console", "general", DAY + timedelta(i), theme, NOW)
                assert claim is not None
                drawn.append(claim.quote_id)
        finally:
            await conn.set_progress_handler(None, 1)
    assert len(set(drawn)) == len(drawn)  # one round: no repeats
    assert all(int(q[1:]) % 2 == 0 for q in drawn[20:40])  # "odd" holds q0, q2, q4...
    assert steps == 0, f"claims made {steps} steps in the quote tables"


async def test_a_claim_is_one_statement_on_postgresql(
    db_path: Path, service: QuoteService, postgres_url: str
) -> None:
    async with daily_store(db_path, postgres_url, service, random.Random(5)) as store:
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
        claim = await store.claim("console", "general", DAY, None, NOW)
        assert claim is not None
        assert len(statements) == 1, statements  # BEGIN and COMMIT aside: one round trip
        statements.clear()
        assert await store.claim("console", "general", DAY, None, NOW) is None  # held
        assert len(statements) == 1


async def test_first_draws_are_spread_evenly_over_a_theme(
    service: QuoteService, store: DailyStore
) -> None:
    ids = [q.id for q in await service.quotes("farewell")]
    firsts: Counter[str] = Counter()
    for channel in range(300):
        claim = await store.claim("console", f"c{channel}", DAY, "farewell", NOW)
        assert claim is not None
        firsts[claim.quote_id] += 1
    assert sorted(firsts) == sorted(ids)
    # 100 each expected; a fixed seed makes this exact run repeatable, not a matter of luck.
    assert all(60 <= n <= 140 for n in firsts.values()), firsts


async def test_a_removed_theme_draws_from_every_quote(
    service: QuoteService, store: DailyStore
) -> None:
    every = {q.id for q in await service.quotes()}
    drawn = []
    for i in range(len(every)):
        claim = await store.claim("console", "general", DAY + timedelta(i), "no-such-theme", NOW)
        assert claim is not None
        drawn.append(claim.quote_id)
    assert sorted(drawn) == sorted(every)


async def test_the_last_quotes_of_a_round_are_found_exactly(
    service: QuoteService, store: DailyStore
) -> None:
    """Near the end of a round random guesses mostly hit drawn quotes: the exact pick works."""
    ids = [q.id for q in await service.quotes()]
    keep = ids[-1]
    async with store.engine.begin() as conn:
        await conn.execute(
            daily_bag.insert(),
            [{"platform": "console", "channel": "general", "quote_id": i} for i in ids[:-1]],
        )
    claim = await store.claim("console", "general", DAY, None, NOW)
    assert claim is not None and claim.quote_id == keep
    # The round is over: the next one starts, and not with the quote that ended this one
    # (it is claimed, not posted: nothing is known to have ended it, so any quote will do).
    again = await store.claim("console", "general", DAY + timedelta(1), None, NOW)
    assert again is not None and again.quote_id in ids
