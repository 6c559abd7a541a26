"""The lease tables on the state's engine, timed by the database's clock alone."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import rows, run
from bot.storage.schema import db_later, db_now, insert, seconds_until, shard_leases, worker_leases

# pg_advisory_xact_lock key for taking shard leases ("lams"); SQLite's BEGIN IMMEDIATE is its
# own lock. Transaction-scoped, so it is safe behind PgBouncer.
_SHARD_LOCK = 0x6C616D73
# (holder, shard, shard_count, seconds left): a live shard lease of another process in the way.
InTheWay = tuple[str, int, int, float]


class LeaseStore:
    """The worker_leases and shard_leases tables (lease.py takes and drops leases here)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def hold_lease(self, token: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew the lease `token` to expire `ttl` from now by the database's clock;
        True if it was live until now (a renewal in time), False if it was taken anew."""
        later = db_later(ttl.total_seconds())
        leases = worker_leases.c
        renew = (
            worker_leases.update()
            .where(leases.token == token, leases.expires_at > db_now())
            .values(expires_at=later)
        )

        def hold(conn: sa.Connection) -> bool:
            if conn.execute(renew).rowcount > 0:
                return True
            take = insert(conn, worker_leases).values(token=token, holder=holder, expires_at=later)
            taken = {"holder": take.excluded.holder, "expires_at": take.excluded.expires_at}
            conn.execute(take.on_conflict_do_update(index_elements=["token"], set_=taken))
            return False

        return await run(self.engine, hold)

    async def live_leases(self) -> list[str]:
        live = sa.select(worker_leases.c.token).where(worker_leases.c.expires_at > db_now())
        return [row.token for row in await rows(self.engine, live)]

    async def drop_lease(self, token: str) -> None:
        """End the lease: the days it still holds are anyone's to take back."""
        await self._drop(worker_leases, token)

    async def hold_shards(
        self,
        token: str,
        holder: str,
        application: str,
        shards: tuple[int, ...],
        count: int,
        ttl: timedelta,
    ) -> InTheWay | None:
        """Take or renew, for `token`, the leases on `shards` (of `count`) of `application`
        to expire `ttl` from now, all or none: None when taken, else the first live lease of
        another token in the way (on one of `shards`, or run with another count)."""
        rows = shard_leases.c
        others = (
            sa.select(rows.holder, rows.shard, rows.shard_count, seconds_until(rows.expires_at))
            .where(rows.application == application, rows.token != token)
            .where(rows.expires_at > db_now())
            .order_by(rows.shard)
        )
        values = {"shard_count": count, "token": token, "holder": holder}
        values |= {"application": application, "expires_at": db_later(ttl.total_seconds())}
        keys = ["application", "shard"]

        def hold(conn: sa.Connection) -> InTheWay | None:
            if conn.dialect.name == "postgresql":  # one taker at a time: check and take as one
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SHARD_LOCK)))
            for found in conn.execute(others):
                if found.shard in shards or found.shard_count != count:
                    return (found.holder, found.shard, found.shard_count, float(found[3]))
            for shard in shards:
                take = insert(conn, shard_leases).values(shard=shard, **values)
                renewed = {name: take.excluded[name] for name in values if name != "application"}
                conn.execute(take.on_conflict_do_update(index_elements=keys, set_=renewed))
            return None

        return await run(self.engine, hold)

    async def drop_shards(self, token: str) -> None:
        await self._drop(shard_leases, token)

    async def _drop(self, table: sa.Table, token: str) -> None:
        dropped = table.delete().where(table.c.token == token)
        await run(self.engine, lambda conn: conn.execute(dropped), single=True)
