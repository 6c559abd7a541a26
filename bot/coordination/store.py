"""The lease tables on the state's engine, timed by the database's clock alone."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.coordination.lease import ShardHolder, first_in_the_way
from bot.storage.schema import db_later, db_now, insert, seconds_until, shard_leases, worker_leases

# pg_advisory_xact_lock key for taking shard leases ("lams"); SQLite's BEGIN IMMEDIATE is its
# own lock. Transaction-scoped, so it is safe behind PgBouncer.
_SHARD_LOCK = 0x6C616D73


class LeaseStore:
    """The worker_leases and shard_leases tables on the state's engine (LeaseRows and
    ShardLeaseRows)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def hold_lease(self, token: str, holder: str, ttl: timedelta) -> bool:
        later = db_later(ttl.total_seconds())
        leases = worker_leases.c
        async with self.engine.begin() as conn:
            renew = (
                worker_leases.update()
                .where(leases.token == token, leases.expires_at > db_now())
                .values(expires_at=later)
            )
            if (await conn.execute(renew)).rowcount > 0:
                return True
            take = insert(conn, worker_leases).values(token=token, holder=holder, expires_at=later)
            await conn.execute(
                take.on_conflict_do_update(
                    index_elements=["token"],
                    set_={"holder": take.excluded.holder, "expires_at": take.excluded.expires_at},
                )
            )
        return False

    async def drop_lease(self, token: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(worker_leases.delete().where(worker_leases.c.token == token))

    async def hold_shards(
        self,
        token: str,
        holder: str,
        application: str,
        shards: tuple[int, ...],
        count: int,
        ttl: timedelta,
    ) -> ShardHolder | None:
        rows = shard_leases.c
        others = (
            sa.select(
                rows.holder,
                rows.shard,
                rows.shard_count,
                seconds_until(rows.expires_at).label("seconds_left"),
            )
            .where(rows.application == application, rows.token != token)
            .where(rows.expires_at > db_now())
            .order_by(rows.shard)
        )
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one taker at a time: check and take as one
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SHARD_LOCK)))
            found = (await conn.execute(others)).mappings().all()
            if (taken := first_in_the_way(found, shards, count)) is not None:
                return taken
            for shard in shards:
                take = insert(conn, shard_leases).values(
                    application=application,
                    shard=shard,
                    shard_count=count,
                    token=token,
                    holder=holder,
                    expires_at=db_later(ttl.total_seconds()),
                )
                await conn.execute(
                    take.on_conflict_do_update(
                        index_elements=["application", "shard"],
                        set_={
                            name: take.excluded[name]
                            for name in ("shard_count", "token", "holder", "expires_at")
                        },
                    )
                )
        return None

    async def drop_shards(self, token: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(shard_leases.delete().where(shard_leases.c.token == token))
