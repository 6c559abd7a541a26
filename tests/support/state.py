"""The shared state for tests that build its stores by hand: an engine on a backend, and the
daily store drawing from the real corpus's ids."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.coordination.store import LeaseStore
from bot.daily.days import Claim, DayKey, DayRecord, Outcome, PostStatus
from bot.daily.store import DailyStore
from bot.quotes.service import QuoteService
from bot.storage.engine import open_engine


@asynccontextmanager
async def state_engine(db_path: Path, url: str | None = None) -> AsyncIterator[AsyncEngine]:
    """The state's engine (migrated): PostgreSQL at `url`, else the SQLite file `db_path`."""
    async with open_engine(db_path, url or "") as engine:
        yield engine


@asynccontextmanager
async def daily_store(
    db_path: Path, url: str | None, quotes: QuoteService, rng: random.Random | None = None
) -> AsyncIterator[DailyStore]:
    """A DailyStore of its own engine (another process's, as far as the database can tell)."""
    await quotes.load_ids()
    async with state_engine(db_path, url) as engine:
        yield DailyStore(engine, quotes.ids, rng)


def leases_of(store: DailyStore) -> LeaseStore:
    """The lease tables beside `store`, on its engine."""
    return LeaseStore(store.engine)


def outcome(
    status: PostStatus, held: Claim | DayRecord | DayKey, at: datetime, reason: str = "", **kw: Any
) -> Outcome:
    """The Outcome DailyService.record hands the store: `status` about a claim, giving up
    (FAILED) a retrying day's record, or (MISSED) a day's key."""
    claim = held if isinstance(held, Claim) else None
    record = held if isinstance(held, DayRecord) else None
    key = held if isinstance(held, tuple) else held.key
    return Outcome(status, key, at, claim, reason, record, **kw)
