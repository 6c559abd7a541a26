"""Worker leases in the database: a scheduler is alive while its lease is, by the database's
clock alone; on SQLite and on PostgreSQL alike.

The database's notion of time is moved by ageing the lease rows in SQL (as if that long had
passed with no renewal), never by sleeping for it and never through our Python clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.coordination.lease import LeaseTerms, WorkerLease, owner
from bot.coordination.store import LeaseStore
from bot.daily.days import PostStatus
from bot.daily.store import DailyStore
from bot.runtime import Core
from bot.storage.connection import connect
from tests.support.state import daily_store, leases_of

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)


@dataclass
class Replicas:
    """Two stores on one database through connections of their own, as two processes."""

    name: str
    mine: DailyStore
    theirs: DailyStore
    db_path: Path
    url: str | None
    leases: LeaseStore  # beside `mine`

    async def age_leases(self, seconds: float) -> None:
        """Move every lease `seconds` closer to its expiry: the database's clock, in effect,
        running on that long with no renewal."""
        if self.url is None:
            with_sqlite = "UPDATE worker_leases SET expires_at = expires_at - ? / 86400.0"
            async with connect(self.db_path) as conn:
                await conn.execute(with_sqlite, (seconds,))
                await conn.commit()
            return
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(
                "UPDATE worker_leases SET expires_at = expires_at - make_interval(secs => $1)",
                seconds,
            )
        finally:
            await conn.close()

    async def seconds_left(self) -> list[float]:
        """Each lease's time to live, by the database's clock."""
        if self.url is None:
            async with (
                connect(self.db_path) as conn,
                conn.execute(
                    "SELECT (expires_at - julianday('now')) * 86400 FROM worker_leases"
                ) as cursor,
            ):
                return sorted(row[0] for row in await cursor.fetchall())
        conn = await asyncpg.connect(self.url)
        try:
            rows = await conn.fetch(
                "SELECT extract(epoch FROM expires_at - now())::float8 FROM worker_leases"
            )
        finally:
            await conn.close()
        return sorted(row[0] for row in rows)


@pytest.fixture
async def replicas(core: Core, db_path: Path, backend_url: str | None) -> AsyncIterator[Replicas]:
    async with (
        daily_store(db_path, backend_url, core.quotes) as mine,
        daily_store(db_path, backend_url, core.quotes) as theirs,
    ):
        name = "postgresql" if backend_url else "sqlite"
        yield Replicas(name, mine, theirs, db_path, backend_url, leases_of(mine))


async def hold_two_days(store: DailyStore, lease: WorkerLease) -> None:
    """Channel a claimed and b sending, under `lease`."""
    token = await lease.acquire()
    claimed = await store.claim("console", "a", DAY, None, NOW, token)
    sending = await store.claim("console", "b", DAY, None, NOW, token)
    assert claimed and sending and await store.start_sending(sending)


async def statuses(store: DailyStore) -> dict[str, PostStatus]:
    return {r.channel: r.status for r in (await store.records_since(DAY)).values()}


async def test_a_live_lease_keeps_its_days_and_a_dropped_one_gives_them_up(
    replicas: Replicas,
) -> None:
    lease = WorkerLease(replicas.leases)
    await hold_two_days(replicas.mine, lease)
    assert await replicas.theirs.recover_claims(NOW) == ([], [])
    assert await statuses(replicas.theirs) == {"a": PostStatus.CLAIMED, "b": PostStatus.SENDING}

    await lease.release()  # a clean stop: given up at once, no waiting for the expiry
    retried, unknown = await replicas.theirs.recover_claims(NOW)
    assert ([r.channel for r in retried], [r.channel for r in unknown]) == (["a"], ["b"])
    assert await statuses(replicas.theirs) == {"a": PostStatus.RETRYING, "b": PostStatus.UNKNOWN}
    assert await replicas.seconds_left() == []


async def test_a_pause_within_the_ttl_keeps_the_lease_and_a_longer_one_loses_it(
    replicas: Replicas, caplog: pytest.LogCaptureFixture
) -> None:
    """The default terms: 60 s to live, renewed every 10 s. A holder paused for 30 s (no
    renewal) is still alive; one silent for over 60 s is gone, and says so when it wakes."""
    assert LeaseTerms() == LeaseTerms.lasting(60)
    lease = WorkerLease(replicas.leases)
    await hold_two_days(replicas.mine, lease)

    await replicas.age_leases(30)
    assert await replicas.theirs.recover_claims(NOW) == ([], [])
    await replicas.age_leases(31)
    retried, unknown = await replicas.theirs.recover_claims(NOW)
    assert ([r.channel for r in retried], [r.channel for r in unknown]) == (["a"], ["b"])
    assert await replicas.seconds_left() == []  # the expired row is gone with its days

    with caplog.at_level(logging.WARNING, logger="bot.coordination.lease"):
        await lease.renew()  # the paused holder wakes: its lease is taken anew
    assert "the worker lease had expired" in caplog.text
    (left,) = await replicas.seconds_left()
    assert 59 < left <= 60
    # What it holds from now on is its own again.
    c = await replicas.mine.claim("console", "c", DAY, None, NOW, lease.token)
    assert c is not None and await replicas.theirs.recover_claims(NOW) == ([], [])


async def test_the_holder_renews_its_lease_in_the_background_and_drops_it_at_the_end(
    replicas: Replicas,
) -> None:
    lease = WorkerLease(replicas.leases, LeaseTerms(timedelta(seconds=60), timedelta(seconds=0.05)))
    async with lease.renewed():
        await hold_two_days(replicas.mine, lease)
        await replicas.age_leases(58)  # two seconds left, unless renewed
        for _ in range(250):  # the next renewal is at most 0.05 s away; 5 s is patience
            if (await replicas.seconds_left())[0] > 30:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the lease was never renewed")
        assert await replicas.theirs.recover_claims(NOW) == ([], [])
    assert await replicas.seconds_left() == []
    retried, unknown = await replicas.theirs.recover_claims(NOW)
    assert (len(retried), len(unknown)) == (1, 1)


async def test_a_claim_its_own_scheduler_lost_track_of_is_settled_by_that_scheduler(
    replicas: Replicas,
) -> None:
    """A live scheduler's day whose post is no longer under way in it (a write about it
    failed) is settled by its own next pass; the ones it tracks are left alone."""
    lease = WorkerLease(replicas.leases)
    token = await lease.acquire()
    tracked = await replicas.mine.claim("console", "a", DAY, None, NOW, token)
    lost = await replicas.mine.claim("console", "b", DAY, None, NOW, token)
    assert tracked and lost
    assert await replicas.theirs.recover_claims(NOW) == ([], [])  # alive: not theirs to take
    retried, unknown = await replicas.mine.recover_claims(NOW, token, {tracked.token})
    assert ([r.channel for r in retried], unknown) == (["b"], [])
    assert await statuses(replicas.mine) == {"a": PostStatus.CLAIMED, "b": PostStatus.RETRYING}
    # Marking it sending again (an answer lost, the call repeated) is still this claim's.
    assert await replicas.mine.start_sending(tracked)
    assert await replicas.mine.start_sending(tracked)
    assert not await replicas.mine.start_sending(lost)
    await lease.release()


async def test_peers_are_the_live_leases_and_a_worker_going_moves_only_its_share(
    replicas: Replicas,
) -> None:
    """A scheduler's peers: every live lease, its own among them, none expired. Each channel
    falls to one of them, the same whoever asks; one going leaves the others' channels put."""
    one, two, three = (WorkerLease(replicas.leases) for _ in range(3))
    tokens = {await lease.acquire() for lease in (one, two, three)}
    assert await one.peers() == tokens
    await replicas.age_leases(61)  # past the ttl, no renewal: all gone by the database's clock
    assert await two.peers() == {two.token}  # its own, even when it has lapsed
    for lease in (one, two, three):
        await lease.renew()
    assert await three.peers() == tokens

    items = [f"console/c{n}" for n in range(300)]
    shares = {item: owner(item, tokens) for item in items}
    assert set(shares.values()) == tokens
    gone = three.token
    await three.release()
    left = await one.peers()
    assert left == tokens - {gone}
    moved = {item for item, was in shares.items() if owner(item, left) != was}
    assert moved == {item for item, was in shares.items() if was == gone}
    assert owner("console/c0", set()) is None
