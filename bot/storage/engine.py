"""The shared state's AsyncEngine (SQLite or PostgreSQL), migrated by Alembic, errors explained;
the quote tables keep their own aiosqlite connection (connection.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Executable, Row, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Dialect, Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import await_

from bot.storage import connection
from bot.storage.connection import DatabaseError
from bot.storage.schema import PerDialect
from bot.storage.urls import redacted, scrubbed

if TYPE_CHECKING:
    from alembic.config import Config

# A read's execution option: SQLite opens no write transaction for it.
READ = {"lambert_read": True}
T = TypeVar("T")
SCRIPTS = Path(__file__).with_name("alembic")
# pg_advisory_xact_lock key for migrations: any constant of our own ("lamb" in ASCII).
MIGRATION_LOCK = 0x6C616D62


class QueryError(DatabaseError):
    """PostgreSQL refused or failed a statement; `detail`: why, on one line, password-free."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: PostgreSQL failed ({detail})")
        self.detail = detail


def _unreachable(where: str, detail: str) -> DatabaseError:
    return DatabaseError(
        f"{where}: cannot connect to PostgreSQL ({detail}). Check LAMBERT_DATABASE_URL "
        "(or --database-url): host, port, user, password and database name."
    )


def _sqlite_engine(path: Path, timeout_ms: int) -> AsyncEngine:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{path}",
        connect_args={"timeout": timeout_ms / 1000},
        # Every transaction ends in COMMIT or ROLLBACK already: no ROLLBACK on return to the
        # pool, a thread hop of aiosqlite's each time.
        pool_reset_on_return=None,
    )

    # SQLAlchemy's documented recipe (SQLite dialect, "Serializable isolation"): the driver
    # opens no transaction of its own, and each write transaction is BEGIN IMMEDIATE, taking
    # SQLite's write lock up front so a read-then-insert (a claim) cannot race another process.
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (f"busy_timeout = {int(timeout_ms)}", "foreign_keys = ON"):
            cursor.execute(f"PRAGMA {pragma}")
        # The quotes' connection made the file WAL already (bot/storage/connection.py); only
        # a new file needs the switch, which takes the file's lock.
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        if not conn.get_execution_options().get("lambert_read"):
            # Straight on aiosqlite's connection: one thread hop, where a cursor takes three.
            adapted: Any = conn.connection.dbapi_connection
            await_(adapted._connection.execute("BEGIN IMMEDIATE"))

    event.listen(engine.sync_engine, "handle_error", _unwrapped)
    return engine


async def run(
    engine: AsyncEngine,
    work: Callable[[Connection], T],
    *,
    write: bool = True,
    single: bool = False,
) -> T:
    """`work` (synchronous SQLAlchemy on one Connection) as one transaction, committed when
    it returns; a read (`write=False`) opens no write transaction; `single`: one statement.
    On SQLite all of it runs in aiosqlite's thread in one hop (the async adapter costs three or
    four per statement, most of a post's cost); on PostgreSQL a read or a single statement runs
    in autocommit: no BEGIN and COMMIT round trips."""
    if engine.dialect.name != "sqlite":
        if write and not single:
            async with engine.begin() as conn:
                return await conn.run_sync(work)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            return await conn.run_sync(work)
    async with engine.connect() as conn:
        pooled = await conn.get_raw_connection()
        driver: Any = pooled.driver_connection  # the aiosqlite.Connection
        # aiosqlite's own queue to its thread (private, pinned in constraints.txt).
        return await driver._execute(_in_thread, pooled.info, driver._conn, work, write)  # type: ignore[no-any-return]


async def rows(engine: AsyncEngine, query: Executable) -> list[Row[Any]]:
    """The rows of one read, in one hop on SQLite."""
    return await run(engine, lambda conn: list(conn.execute(query)), write=False)


def _in_thread(
    info: dict[str, Any], raw: sqlite3.Connection, work: Callable[[Connection], T], write: bool
) -> T:
    """`work` on a synchronous engine over aiosqlite's own sqlite3 connection, in its thread."""
    if (sync := info.get("lambert_sync")) is None:
        info["lambert_sync"] = sync = sync_sqlite(raw)
    with sync.begin() as conn:  # its COMMIT (or ROLLBACK) is the driver's, as BEGIN is ours
        if write:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return work(conn)


def sync_sqlite(raw: sqlite3.Connection) -> Engine:
    """A synchronous engine on the sqlite3 connection `raw`, raising SQLite's errors as they are."""
    engine = create_engine("sqlite://", creator=lambda: raw, poolclass=StaticPool)
    event.listen(engine, "handle_error", _unwrapped)
    return engine


def _unwrapped(context: ExceptionContext) -> None:
    # SQLite's own error, as the quote tables' connection raises it: whoever catches it
    # explains it naming the file and the operation that waited (connection.explain).
    original = context.original_exception
    if isinstance(original, sqlite3.Error) and not context.is_pre_ping:
        raise original


def _postgres_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(
        "postgresql+psycopg://" + url.partition("://")[2],
        # Bounded: a PgBouncer's pool is shared by every replica.
        pool_size=5,
        max_overflow=5,
        # A connection dropped while idle (by the server or a proxy) is replaced before use.
        pool_pre_ping=True,
        # Behind PgBouncer in transaction mode no prepared statement or session state may
        # outlive a transaction: psycopg 3 with prepare_threshold=None prepares nothing, so any
        # PgBouncer works (1.18 too). asyncpg always prepares, and its statements stayed on the
        # server connection until garbage-collected (a leak), for 1.2-1.5x per post.
        connect_args={"prepare_threshold": None, "connect_timeout": 10},
    )
    where = redacted(url)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _explain(context: ExceptionContext) -> None:
        original = context.original_exception
        if context.is_pre_ping or not isinstance(original, Exception):
            return  # a cancelled task's CancelledError goes on as it is
        detail = scrubbed(str(original) or type(original).__name__, url)
        if context.connection is None:  # connecting failed: no statement ran
            raise _unreachable(where, detail)
        raise QueryError(where, detail)

    return engine


@asynccontextmanager
async def open_engine(db_path: Path, database_url: str = "") -> AsyncIterator[AsyncEngine]:
    """The state's engine, migrated to this lambert's head; disposed on exit. PostgreSQL when
    `database_url` is set, else the SQLite file at `db_path`. Every error that escapes is a
    DatabaseError naming the database (a PostgreSQL URL without its password) and the fix."""
    if database_url:
        if urlsplit(database_url).scheme.split("+")[0] not in ("postgresql", "postgres"):
            raise DatabaseError(
                f"{redacted(database_url)}: not a PostgreSQL URL. Set LAMBERT_DATABASE_URL to "
                "postgresql://user:password@host:port/database, or unset it for the SQLite file."
            )
        engine = _postgres_engine(database_url)
        where = redacted(database_url)
    else:
        engine = _sqlite_engine(db_path, connection.BUSY_TIMEOUT_MS)
        where = str(db_path)
    try:
        try:
            await upgrade(engine, where)
        except (OSError, TimeoutError) as exc:
            detail = scrubbed(str(exc) or type(exc).__name__, database_url or where)
            raise _unreachable(where, detail) from None
        yield engine
    finally:
        await engine.dispose()


def config(conn: Connection | None = None) -> Config:
    """Alembic's configuration in code (no alembic.ini): our scripts, this connection."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = conn
    return cfg


@cache
def head() -> str:
    """The newest revision, the `NNNN` of the last `NNNN_*.py` script: importing Alembic (and
    every dialect it knows) took about half a second a start, every `lambert daily tick` too,
    where a database at the head needs none of it. Tested against Alembic's answer."""
    return max(script.name.partition("_")[0] for script in (SCRIPTS / "versions").glob("*.py"))


async def upgrade(engine: AsyncEngine, where: str) -> None:
    """Bring the state's schema to this lambert's head, in one transaction under a lock
    (PostgreSQL's advisory lock, SQLite's BEGIN IMMEDIATE): replicas starting together migrate
    once. A database migrated by a newer lambert is refused before anything is written."""
    async with engine.execution_options(**READ).connect() as conn:
        if await conn.run_sync(_current) == head():
            return  # the usual start: no write transaction
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, where)


def downgrade() -> None:  # every revision's (they import it): the schema only moves forward
    raise NotImplementedError("lambert's revisions are not undone")


def _current(conn: Connection) -> str | None:
    """The database's revision; None for a database Alembic never touched."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(conn: Connection, where: str) -> None:
    from alembic import command, util
    from alembic.script import ScriptDirectory

    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    current = _current(conn)  # re-read under the lock: another process may have migrated
    scripts = ScriptDirectory.from_config(config())
    try:
        scripts.get_revision(current or "base")  # "base": a database Alembic never touched
    except util.CommandError:  # a revision of a newer lambert: not in our scripts
        raise DatabaseError(
            f"{where}: the schema is at revision {current}, newer than this lambert "
            f"understands ({scripts.get_current_head()}). Upgrade lambert, or point it at "
            "another database; nothing was changed."
        ) from None
    command.upgrade(config(conn), "head")


def comparison(dialect: Dialect) -> dict[str, Any]:
    """Alembic's comparison options on `dialect`: what `ddl_if` leaves out, per-dialect types."""

    def include(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        if kind == "table" and reflected and other is None:
            return False  # not state: the quote tables of the SQLite file
        condition = getattr(item, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect.name)

    def compare_type(
        _context: Any, _found: Any, _mine: Any, found: TypeEngine[Any], mine: TypeEngine[Any]
    ) -> bool | None:
        if not isinstance(mine, PerDialect):
            return None
        return mine.load_dialect_impl(dialect)._type_affinity is not found._type_affinity

    return {"include_object": include, "compare_type": compare_type}
