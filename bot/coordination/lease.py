"""Leases in the database: a scheduler's (its claims are live while it is) and Discord shards'."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.coordination.store import LeaseStore

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LeaseTerms:
    ttl: timedelta = timedelta(seconds=60)
    renew_every: timedelta = timedelta(seconds=10)

    @classmethod
    def lasting(cls, seconds: float) -> LeaseTerms:
        """A lease of `seconds`, renewed six times as often (60 s: every 10 s)."""
        return cls(timedelta(seconds=seconds), timedelta(seconds=seconds / 6))


class _Lease:
    """A worker's or shard lease: renewals and drops log a failing database, never raise.

    A holder renews its row every `renew_every` (10 s) to expire `ttl` (60 s) later, by the
    database's clock alone (PostgreSQL's `now()`, SQLite's `julianday('now')`): replicas whose
    clocks differ, or a scheduler on a simulated clock, agree on who is alive. A replica that
    dies (SIGKILL too) leaves its lease to expire `ttl` after its last renewal, and the next
    pass of another takes its days back; a live one paused up to `ttl - renew_every` keeps
    them. A claim with no live lease is taken back by the next pass anywhere: the safe side (a
    day caught sending is reported unknown, never posted twice)."""

    def __init__(self, rows: LeaseStore, terms: LeaseTerms | None, area: str, kind: str) -> None:
        self.rows, self.terms = rows, terms or LeaseTerms()
        self.holder = f"{socket.gethostname()}:{os.getpid()}"  # for people reading the table
        self._what = (area, kind)  # for the log: "daily", "worker"
        self._failing = False

    async def _renewed(self, renewal: Awaitable[T]) -> T | None:
        """The renewal's answer; None when it failed, logged once until one works again."""
        try:
            found = await renewal
        except Exception as exc:  # the database is away: a restart, a dropped connection
            if not self._failing:
                log.warning("%s: renewing the %s lease failed, retrying: %r", *self._what, exc)
            self._failing = True
            return None
        if self._failing:
            log.info("%s: the %s lease is renewed again", *self._what)
        self._failing = False
        return found

    async def _dropped(self, drop: Awaitable[None]) -> None:
        try:
            await drop
        except Exception as exc:
            log.warning(
                "%s: could not drop the %s lease (it expires by itself): %r", *self._what, exc
            )


class WorkerLease(_Lease):
    """One scheduler's lease; `token` names it in the claims it makes (None: not held)."""

    def __init__(self, rows: LeaseStore, terms: LeaseTerms | None = None) -> None:
        super().__init__(rows, terms, "daily", "worker")
        self.token: str | None = None

    async def acquire(self) -> str:
        """Take the lease if it is not held yet; its token. Raises if the database does."""
        if self.token is None:
            token = uuid.uuid4().hex
            await self.rows.hold_lease(token, self.holder, self.terms.ttl)
            self.token = token
        return self.token

    async def peers(self) -> set[str]:
        """The tokens of the live worker leases, this one's among them once held."""
        live = set(await self.rows.live_leases())
        return live | {self.token} if self.token is not None else live

    async def renew(self) -> None:
        if self.token is None:
            return
        live = await self._renewed(self.rows.hold_lease(self.token, self.holder, self.terms.ttl))
        if live is False:
            log.warning(
                "daily: the worker lease had expired (no renewal for %s): days this process "
                "held may have been taken back by another; it holds the rest again",
                self.terms.ttl,
            )

    async def release(self) -> None:
        token, self.token = self.token, None
        if token is not None:
            await self._dropped(self.rows.drop_lease(token))

    def abandon(self) -> None:
        """Forget the lease without a word to the database (gone): it expires by itself."""
        self.token = None

    @contextlib.asynccontextmanager
    async def renewed(self) -> AsyncIterator[None]:
        """Renew the lease in the background while the block runs, then release it."""
        renewing = asyncio.create_task(self._renew_forever())
        try:
            yield
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await self.release()

    async def _renew_forever(self) -> None:
        # The real clock, never the scheduler's: the lease lives by the database's clock.
        while True:
            await asyncio.sleep(self.terms.renew_every.total_seconds())
            await self.renew()


@dataclass(frozen=True, slots=True)
class ShardHolder:
    """A live shard lease of another process in the way: on a shard asked for, or on the
    same application with another shard count (its shards then overlap any of these)."""

    holder: str
    shard: int
    count: int
    seconds_left: float  # until it expires unless renewed, by the database's clock


class ShardsTaken(Exception):
    """Another live process holds a shard this one was to run."""

    def __init__(self, taken: ShardHolder) -> None:
        super().__init__(taken.holder)
        self.taken = taken


class ShardLease(_Lease):
    """One process's leases on its Discord shards, one per (application, shard), so two live
    processes never run one shard (each would answer its servers' commands)."""

    def __init__(self, rows: LeaseStore, terms: LeaseTerms | None = None) -> None:
        super().__init__(rows, terms, "discord", "shard")
        self.token = uuid.uuid4().hex
        self.held: tuple[str, tuple[int, ...], int] | None = None  # application, shards, count

    async def acquire(self, application: str, shards: tuple[int, ...], count: int) -> None:
        """Take the shards, or raise ShardsTaken naming the live holder in the way."""
        taken = await self.rows.hold_shards(
            self.token, self.holder, application, shards, count, self.terms.ttl
        )
        if taken is not None:
            raise ShardsTaken(ShardHolder(*taken))
        self.held = (application, shards, count)

    async def renew(self) -> ShardHolder | None:
        """Renew what is held: the holder that took a shard meanwhile (this process may
        have stalled past `ttl`), else None."""
        if self.held is None:
            return None
        hold = self.rows.hold_shards(self.token, self.holder, *self.held, self.terms.ttl)
        taken = await self._renewed(hold)
        return None if taken is None else ShardHolder(*taken)

    async def release(self) -> None:
        if self.held is not None:
            self.held = None
            await self._dropped(self.rows.drop_shards(self.token))

    async def keep(self) -> ShardHolder:
        """Renew every `renew_every` until a renewal finds a shard taken: that holder."""
        while True:
            await asyncio.sleep(self.terms.renew_every.total_seconds())
            taken = await self.renew()
            if taken is not None:
                return taken


@dataclass(frozen=True, slots=True)
class Leases:
    """The lease tables and the terms of every lease (not yet taken) made on them."""

    rows: LeaseStore
    terms: LeaseTerms = LeaseTerms()

    def worker_lease(self) -> WorkerLease:
        return WorkerLease(self.rows, self.terms)

    def shard_lease(self) -> ShardLease:
        return ShardLease(self.rows, self.terms)


def owner(item: str, workers: Collection[str]) -> str | None:
    """The worker `item` falls to (None when there is none), by rendezvous hashing over the
    workers' tokens: every process that sees the same workers picks the same one, and a worker
    coming or going moves only its own share."""
    # Python's hash() differs between processes (PYTHONHASHSEED): a digest is the same in all.
    return max(
        workers,
        key=lambda w: hashlib.blake2b(f"{w}\0{item}".encode(), digest_size=8).digest(),
        default=None,
    )
