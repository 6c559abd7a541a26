"""Fresh databases and replica cores for the `replicas` family (bench/replicas.py).

The family's own PostgreSQL server on loopback, started as the tests start theirs
(tests/support/postgres.py's Cluster), a fresh database on it for each run; SQLite runs get
a fresh copy of the loaded quote file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from bench.context import REAL, Bench
from bench.fanout import DUE, PLATFORM, ZONE, insert_schedules
from bot.config import Settings, load_settings
from bot.runtime import Core, open_core
from tests.support.postgres import Cluster, server_binaries

FAMILY = "replicas"
SQLITE, POSTGRES = "SQLite", "PostgreSQL"
DAY = DUE.astimezone(ZoneInfo(ZONE)).date()
SET_AT = DUE - timedelta(hours=1)  # turned on this morning
_databases = itertools.count(1)


@contextlib.contextmanager
def postgres_server() -> Iterator[Cluster | None]:
    """A throwaway server on loopback for this family, as the tests start theirs; None when
    the machine has none (the rows say so; under CI=true that is an error)."""
    bin_dir = server_binaries()
    if bin_dir is None:
        if os.environ.get("CI", "").lower() == "true":
            raise RuntimeError("no PostgreSQL server binaries (Debian package postgresql)")
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="lambert-bench-pg-"))
    cluster = Cluster(bin_dir, folder)
    try:
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Backends:
    """Fresh databases for each run: a SQLite file, or a database on the bench's server."""

    def __init__(self, bench: Bench, cluster: Cluster | None) -> None:
        self.bench, self.cluster = bench, cluster

    async def fresh(self, backend: str, name: str) -> tuple[Path, str]:
        """A loaded quote file for the first replica, and the PostgreSQL URL ("" for SQLite)."""
        db = self.bench.fresh_db(f"{name}-{next(_databases)}")
        shutil.copy(await self.bench.loaded_db(REAL), db)
        if backend == SQLITE:
            return db, ""
        assert self.cluster is not None
        database = f"r_{next(_databases)}"
        admin = await asyncpg.connect(self.cluster.url())
        try:
            await admin.execute(f"CREATE DATABASE {database}")
        finally:
            await admin.close()
        return db, self.cluster.url(database)


def settings_for(bench: Bench, db: Path, url: str, **env: str) -> Settings:
    return load_settings(env, db_path=db, corpus_path=bench.corpus(REAL), database_url=url or None)


@contextlib.asynccontextmanager
async def replica_cores(bench: Bench, db: Path, url: str, n: int) -> AsyncIterator[list[Core]]:
    """`n` cores as `n` replicas have them: on PostgreSQL each with its own quote file and
    pool; on SQLite each with its own connection to the one file."""
    async with contextlib.AsyncExitStack() as stack:
        cores = []
        for i in range(n):
            own = db
            if url and i:
                own = db.with_name(f"replica-{i}.db")
                shutil.copy(db, own)
            cores.append(await stack.enter_async_context(open_core(settings_for(bench, own, url))))
        yield cores


async def add_schedules(
    _core: Core, db: Path, url: str, n: int, at: clock_time = clock_time(9), first: int = 0
) -> None:
    """`n` schedules at `at` in Berlin (09:00: due at DUE), channels numbered from `first`."""
    channels = (f"{1_000_000 + first + i}" for i in range(n))
    await insert_schedules(db, url, [(PLATFORM, c, ZONE, SET_AT) for c in channels], at)


async def statuses(core: Core, url: str) -> dict[str, int]:
    """Days of DAY by status, as the shared database has them."""
    if url:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT status, count(*) FROM daily_posts WHERE local_date = $1 GROUP BY status",
                DAY,
            )
        finally:
            await conn.close()
        return {r[0]: r[1] for r in rows}
    async with core.quotes.conn.execute(
        "SELECT status, count(*) FROM daily_posts GROUP BY status"
    ) as cursor:
        return {row[0]: row[1] for row in await cursor.fetchall()}
