"""The shared state through a real PgBouncer in transaction mode (Debian's 1.18, which does not
track prepared statements): migrations, claims, schedules, previews and stats from several
engines at once, over two server connections, with nothing failing."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.daily.days import PostStatus
from bot.daily.schedules import Schedule
from bot.previews.store import PreviewStore
from bot.quotes.service import QuoteService
from bot.stats.sql_store import StateStatsStore
from bot.stats.store import CountKey, Scope, WordsKey
from tests.support.state import daily_store, outcome, state_engine

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)
CHANNELS = [f"c{n:02d}" for n in range(30)]


async def test_claims_schedules_previews_and_stats_go_through_pgbouncer(
    db_path: Path, service: QuoteService, bouncer_url: str
) -> None:
    async with (
        daily_store(db_path, bouncer_url, service, random.Random(1)) as one,
        daily_store(db_path, bouncer_url, service, random.Random(2)) as two,
        daily_store(db_path, bouncer_url, service, random.Random(3)) as three,
        state_engine(db_path, bouncer_url) as engine,
    ):
        stores = [one, two, three]
        for channel in CHANNELS:
            schedule = Schedule("console", channel, time(9), "UTC", None, True, "ops", NOW)
            await one.save_schedules([schedule])
        assert len(await two.schedules()) == len(CHANNELS)

        # Three replicas claim every channel's day at once, each day over many connections.
        async def claim_all(store_index: int) -> list[str]:
            store, won = stores[store_index], []
            for channel in CHANNELS:
                for day in (DAY, DAY + timedelta(1)):
                    claim = await store.claim("console", channel, day, None, NOW, None)
                    if claim is not None:
                        assert await store.start_sending(claim)
                        await store.record(
                            outcome(PostStatus.POSTED, claim, NOW, message_id=f"m-{channel}-{day}")
                        )
                        won.append(f"{channel}/{day}")
            return won

        won = await asyncio.gather(*(claim_all(i) for i in range(3)))
        every = [day for each in won for day in each]
        assert sorted(every) == sorted(
            f"{c}/{d}" for c in CHANNELS for d in (DAY, DAY + timedelta(1))
        )  # each day once, whoever won it
        records = await three.records_since(DAY)
        assert {r.status for r in records.values()} == {"posted"}
        assert all(r.quote_id for r in records.values())

        previews = [PreviewStore(engine), PreviewStore(one.engine)]
        taken = await asyncio.gather(
            *(p.claim("discord:1", "discord", "C", NOW) for p in previews * 3)
        )
        assert sorted(taken) == [False] * 5 + [True]
        await previews[1].record_posted("discord:1", "m")
        assert await previews[0].outcome("discord:1") == "posted"

        stats = [StateStatsStore(engine), StateStatsStore(two.engine)]
        key = CountKey(DAY, "slack", "T1", "C1", "command", "lookup", "quote")
        words = WordsKey(DAY, "slack", "T1", "C1", "nothing here")
        await asyncio.gather(*(s.add({key: 2, words: 1}, DAY) for s in stats * 2))
        assert await stats[0].tallies(DAY, Scope()) == [("command", "lookup", "quote", 8)]
        assert await stats[1].empty_searches(DAY, Scope(), 5) == [("nothing here", 4)]
