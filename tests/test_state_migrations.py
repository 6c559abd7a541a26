"""The state's schema under Alembic, on both backends: a database written before Alembic is
upgraded with every row kept, replicas starting together migrate once, a newer database is
refused untouched, and the tables never drift from the migration head."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.daily.days import PostStatus
from bot.daily.schedules import EVERY_DAY, Schedule
from bot.quotes.service import QuoteService
from bot.storage.connection import DatabaseError, connect
from bot.storage.engine import comparison, head
from bot.storage.schema import metadata
from bot.storage.urls import redacted
from tests.support.postgres import Cluster, run_in_thread
from tests.support.state import daily_store, state_engine

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
_numbers = itertools.count(1)
FIXTURES = Path(__file__).parent / "fixtures"
SQLITE_BEFORE = FIXTURES / "state-before-alembic.sqlite"
POSTGRES_BEFORE = FIXTURES / "state-before-alembic.postgres.sql"
# Every state table's rows as the code before Alembic wrote them (tests/fixtures/README.md).
ROWS_BEFORE = {
    "daily_schedules": 3,
    "daily_posts": 4,
    "daily_bag": 3,
    "preview_posts": 2,
    "stats_counts": 2,
    "stats_empty_searches": 1,
    "worker_leases": 1,
    "shard_leases": 2,
    "installs": 2,
}
# Gone at the head: the single token's workspace keyed the bare Slack channels (0003), and an
# install under way's state is signed instead of stored (0004).
GONE = ("oauth_states", "token_workspaces")


@pytest.fixture
async def empty_url(postgres_cluster: Cluster, postgres_url: str) -> AsyncIterator[str]:
    """A database lambert never saw (not cloned from the migrated template)."""
    name = postgres_url.rsplit("/", 1)[1] + "_empty"
    admin = await asyncpg.connect(postgres_cluster.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield postgres_cluster.url(name)
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
def before_alembic(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Path, str | None]]:
    """(SQLite file, PostgreSQL URL or None): a database written by lambert before Alembic."""
    db_path = tmp_path / "before.db"
    shutil.copy(SQLITE_BEFORE, db_path)
    if request.param == "sqlite":
        yield db_path, None
        return
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    name = f"before_{next(_numbers)}"

    async def admin(statement: str, database: str = "postgres") -> None:
        conn = await asyncpg.connect(cluster.url(database))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    run_in_thread(admin(f"CREATE DATABASE {name}"))
    run_in_thread(admin(POSTGRES_BEFORE.read_text(), name))
    yield db_path, cluster.url(name)
    run_in_thread(admin(f"DROP DATABASE {name} WITH (FORCE)"))


async def counts(engine: Any) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table: int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar())
            for table in ROWS_BEFORE
        }


@pytest.mark.parametrize("before_alembic", ["sqlite", "postgresql"], indirect=True)
async def test_a_database_written_before_alembic_is_upgraded_with_every_row(
    before_alembic: tuple[Path, str | None], service: QuoteService
) -> None:
    db_path, url = before_alembic
    async with state_engine(db_path, url) as engine:
        assert await counts(engine) == ROWS_BEFORE
        async with engine.connect() as conn:
            found = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert found.scalar() == head()
            tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
            assert not tables & {"lambert_schema", *GONE}
    async with daily_store(db_path, url, service) as store:
        # The rows read back as they were written: times, dates, instants, flags.
        schedules = {s.channel: s for s in await store.schedules()}
        assert schedules["T0AAA/C2"].local_time == time(18, 30)
        assert schedules["T0AAA/C2"].set_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        # The bare Slack channel is keyed by the workspace its one token recorded (0003).
        assert not schedules["555"].enabled and schedules["T0AAA/C1"].enabled
        assert "C1" not in schedules
        # Schedules from before days of the week post every day (0005).
        assert {s.weekdays for s in schedules.values()} == {EVERY_DAY}
        records = await store.records_since(date(2026, 11, 29))
        retrying = records[("slack", "T0AAA/C2", date(2026, 11, 30))]
        assert retrying.status is PostStatus.RETRYING
        assert retrying.resend_until == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        # And they go on: the day held by the gone scheduler is recovered.
        retried, unknown = await store.recover_claims(NOW)
        assert [r.local_date for r in retried] == [date(2026, 12, 1)] and unknown == []


@pytest.mark.parametrize("before_alembic", ["sqlite", "postgresql"], indirect=True)
async def test_the_tables_match_the_migration_head(before_alembic: tuple[Path, str | None]) -> None:
    """Alembic's autogenerate comparison finds nothing to do, on a database made by the
    migrations and on one upgraded from before Alembic: the Table definitions and the head
    cannot drift apart."""
    db_path, url = before_alembic
    fresh = db_path.with_name("fresh.db")
    for where, target in ((db_path, url), (fresh, None) if url is None else (fresh, url)):
        async with state_engine(where, target) as engine, engine.connect() as conn:
            differences = await conn.run_sync(_differences)
        assert differences == []


def _differences(conn: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts=comparison(conn.dialect))
    found = compare_metadata(context, metadata)
    if conn.dialect.name == "sqlite":
        # SQLite's `TEXT PRIMARY KEY` (the DDL of before Alembic, kept) accepts NULL: a quirk
        # of SQLite's, not a difference lambert could write a row through.
        found = [d for d in found if not _sqlite_text_key(d)]
    return found


def _sqlite_text_key(difference: Any) -> bool:
    if not (isinstance(difference, list) and len(difference) == 1):
        return False
    kind, _, table, column, *_ = difference[0]
    return kind == "modify_nullable" and metadata.tables[table].c[column].primary_key


async def test_replicas_starting_together_migrate_a_new_database_once(
    empty_url: str, tmp_path: Path
) -> None:
    async def start() -> int:
        async with state_engine(tmp_path / "unused.db", empty_url) as engine:
            return (await counts(engine))["daily_posts"]

    assert await asyncio.gather(*(start() for _ in range(5))) == [0] * 5
    assert await start() == 0  # and again: nothing left to do


async def test_sqlite_processes_starting_together_migrate_a_new_file_once(tmp_path: Path) -> None:
    async with connect(tmp_path / "new.db"):  # as open_core does: the quote tables first
        pass

    async def start() -> None:
        async with state_engine(tmp_path / "new.db") as engine, engine.connect() as conn:
            await conn.execute(sa.text("SELECT count(*) FROM daily_posts"))

    await asyncio.gather(*(start() for _ in range(5)))
    with sqlite3.connect(tmp_path / "new.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]


async def test_a_newer_database_is_refused_untouched(postgres_url: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE alembic_version SET version_num = '9999'")
    finally:
        await conn.close()
    with pytest.raises(DatabaseError) as refused:
        async with state_engine(tmp_path / "unused.db", postgres_url):
            pass
    message = str(refused.value)
    assert "\n" not in message and message.startswith(redacted(postgres_url))
    assert "revision 9999, newer than this lambert" in message and "nothing was changed" in message
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == "9999"
    finally:
        await conn.close()


async def test_a_newer_sqlite_file_is_refused_untouched(db_path: Path, tmp_path: Path) -> None:
    async with state_engine(db_path):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DatabaseError, match="newer than this lambert understands"):
        async with state_engine(db_path):
            pass


async def test_the_store_leaves_no_prepared_statement_on_a_connection(
    service: QuoteService, postgres_url: str, db_path: Path
) -> None:
    """Behind PgBouncer in transaction mode the next transaction may run on another server
    connection: a statement prepared by name on this one would be missing there."""
    async with daily_store(db_path, postgres_url, service) as store:
        schedule = Schedule("console", "general", time(9), "UTC", None, True, "ops", NOW)
        await store.save_schedules([schedule])
        for _ in range(3):
            await asyncio.gather(
                store.schedules(),
                store.claim("console", "general", date(2025, 3, 10), None, NOW, None),
                store.records_since(date(2025, 3, 1)),
                store.latest(),
                store.recover_claims(NOW),
            )
        async with store.engine.connect() as conn:
            left = await conn.execute(sa.text("SELECT name FROM pg_prepared_statements"))
            assert left.all() == []


def test_urls_lose_their_password_and_keep_the_rest() -> None:
    assert redacted("postgresql://bob:s%40cret@db:5432/lambert") == (
        "postgresql://bob:***@db:5432/lambert"
    )
    assert redacted("postgresql://bob@db/lambert") == "postgresql://bob@db/lambert"
    assert redacted("postgresql://db/lambert?sslmode=require") == (
        "postgresql://db/lambert?sslmode=require"
    )


def test_the_head_read_from_the_scripts_is_alembics_own() -> None:
    """engine.head() reads the revision lines itself, so a start at the head never imports
    Alembic: it must name the head Alembic would."""
    from alembic.script import ScriptDirectory

    from bot.storage.engine import config

    assert head() == ScriptDirectory.from_config(config()).get_current_head()


def test_a_start_on_a_database_at_the_head_imports_no_alembic(tmp_path: Path) -> None:
    """`lambert daily tick` runs often (cron): on a migrated database it pays for SQLAlchemy,
    not for Alembic and every dialect Alembic knows."""
    import subprocess
    import sys

    db = str(tmp_path / "lambert.db")
    probe = (
        "import sys; from bot.cli import main; main(['daily', 'list', '--db', sys.argv[1]]); "
        "print('alembic' in sys.modules, 'sqlalchemy' in sys.modules, file=sys.stderr)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", probe, db], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.stderr.strip().splitlines()[-1] for r in runs] == ["True True", "False True"]
