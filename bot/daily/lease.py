"""Whether the scheduler holding a daily claim is still alive, told by a lease in the database.

A scheduler holds a row in `worker_leases` while it may have claims under way, renewed every
`renew_every` (10 s) to expire `ttl` (60 s) later. The expiry is computed and compared by the
database's clock alone (PostgreSQL's `now()`, SQLite's `julianday('now')`), never a host's:
replicas whose clocks differ, or a scheduler on a simulated clock, agree on who is alive.

So a replica that dies, however it dies (SIGKILL too), leaves its lease to expire at most
`ttl` after its last renewal, and the first pass of another replica after that takes its days
back; a live one, even paused for up to `ttl - renew_every` (50 s), keeps them. A clean stop
deletes the row at once. A claim made with no live lease behind it is taken back by the next
pass anywhere: the safe side (a day caught sending is reported unknown, never posted twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeaseTerms:
    """How long a lease lives unrenewed (`ttl`), and how often its holder renews it."""

    ttl: timedelta = timedelta(seconds=60)
    renew_every: timedelta = timedelta(seconds=10)

    @classmethod
    def lasting(cls, seconds: float) -> LeaseTerms:
        """A lease of `seconds`, renewed six times as often (60 s: every 10 s)."""
        return cls(timedelta(seconds=seconds), timedelta(seconds=seconds / 6))


class LeaseRows(Protocol):
    """The lease table, as a DailyStore offers it."""

    async def hold_lease(self, token: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew the lease `token` to expire `ttl` from now by the database's clock;
        True if it was live until now (a renewal in time), False if it was taken anew."""
        ...

    async def drop_lease(self, token: str) -> None:
        """End the lease: the days it still holds are anyone's to take back."""
        ...


def this_holder() -> str:
    """Who holds a lease, for people reading the table: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class WorkerLease:
    """One scheduler's lease; `token` names it in the claims it makes (None: not held)."""

    def __init__(self, rows: LeaseRows, terms: LeaseTerms | None = None) -> None:
        self.rows = rows
        self.terms = terms or LeaseTerms()
        self.holder = this_holder()
        self.token: str | None = None
        self._failing = False

    async def acquire(self) -> str:
        """Take the lease if it is not held yet; its token. Raises if the database does."""
        if self.token is None:
            token = uuid.uuid4().hex
            await self.rows.hold_lease(token, self.holder, self.terms.ttl)
            self.token = token
        return self.token

    async def renew(self) -> None:
        """Renew the lease; a failure is logged (once until it works again), never raised: the
        next renewal tries again, and the lease outlives up to `ttl` of them."""
        if self.token is None:
            return
        try:
            live = await self.rows.hold_lease(self.token, self.holder, self.terms.ttl)
        except Exception as exc:  # the database is away: a restart, a dropped connection
            if not self._failing:
                log.warning("daily: renewing the worker lease failed, retrying: %r", exc)
            self._failing = True
            return
        if self._failing:
            log.info("daily: the worker lease is renewed again")
        self._failing = False
        if not live:
            log.warning(
                "daily: the worker lease had expired (no renewal for %s): days this process "
                "held may have been taken back by another; it holds the rest again",
                self.terms.ttl,
            )

    async def release(self) -> None:
        """Drop the lease; if the database cannot be reached it expires by itself."""
        token, self.token = self.token, None
        if token is None:
            return
        try:
            await self.rows.drop_lease(token)
        except Exception as exc:
            log.warning("daily: could not drop the worker lease (it expires by itself): %r", exc)

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
