"""PostgreSQL for state that replicas share: the pool, versioned migrations, URLs without passwords.

Only the daily feature's mutable tables live here; the quote tables stay in each process's
own SQLite file, rebuilt from the corpus. Like the SQLite file, a database records how far its
schema got and is refused when a newer lambert migrated it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from bot.storage.connection import DatabaseError

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # A connection of its own, or one borrowed from a pool: both run the same statements.
    PgConnection: TypeAlias = asyncpg.Connection | PoolConnectionProxy

# Append only: never edit a migration that has shipped. Each runs with its version bump in one
# transaction (PostgreSQL's DDL is transactional), under an advisory lock so that replicas
# starting together migrate once. Versions count on their own, not with the SQLite file's.
MIGRATIONS: list[tuple[int, tuple[str, ...]]] = [
    (
        1,
        (
            # The same tables and meanings as the SQLite file's (bot/storage/migrations.py),
            # in native types. Quote ids are plain text: the quotes are not in this database.
            """CREATE TABLE daily_schedules (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                local_time TIME NOT NULL,
                tz TEXT NOT NULL,
                theme TEXT,
                enabled BOOLEAN NOT NULL,
                disabled_reason TEXT,
                set_by TEXT NOT NULL,
                set_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (platform, channel)
            )""",
            # One row per channel and local date, inserted before posting: its key is what
            # makes a day post at most once, across replicas and restarts.
            """CREATE TABLE daily_posts (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                local_date DATE NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('claimed', 'sending', 'retrying',
                    'posted', 'failed', 'missed', 'unknown')),
                quote_id TEXT,
                message_id TEXT,
                reason TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TIMESTAMPTZ,
                claim_token TEXT UNIQUE,
                claimed_at TIMESTAMPTZ NOT NULL,
                finished_at TIMESTAMPTZ,
                -- the lease of the scheduler holding a claimed or sending day
                worker TEXT,
                -- set once an attempt's outcome is unknown: the day may have posted, so it
                -- is resent only until then, inside the platform's dedupe window
                resend_until TIMESTAMPTZ,
                PRIMARY KEY (platform, channel, local_date)
            )""",
            # Only held days are looked for by status (recover_claims): a small partial index.
            "CREATE INDEX daily_posts_held ON daily_posts (status) "
            "WHERE status IN ('claimed', 'sending')",
            # The quotes a channel has drawn in its current round of the shuffle bag.
            """CREATE TABLE daily_bag (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                quote_id TEXT NOT NULL,
                PRIMARY KEY (platform, channel, quote_id)
            )""",
        ),
    ),
    (
        2,
        (
            # One row per quote preview whose Post was clicked (bot/previews), inserted before
            # posting: its key makes a preview post once, whichever replica got the click.
            """CREATE TABLE preview_posts (
                preview_id TEXT PRIMARY KEY,
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                claimed_at TIMESTAMPTZ NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('posting', 'posted')),
                message_id TEXT
            )""",
            "CREATE INDEX preview_posts_by_age ON preview_posts (claimed_at)",
        ),
    ),
    (
        3,
        (
            # Stats (bot/stats), summed across replicas: the SQLite file's tables (its
            # migration 6) in native types. Counts only, never a user id.
            """CREATE TABLE stats_counts (
                day DATE NOT NULL,
                platform TEXT NOT NULL,
                space TEXT NOT NULL,
                channel TEXT NOT NULL,
                metric TEXT NOT NULL,
                name TEXT NOT NULL,
                detail TEXT NOT NULL,
                count BIGINT NOT NULL,
                PRIMARY KEY (day, platform, space, channel, metric, name, detail)
            )""",
            "CREATE INDEX stats_counts_by_place ON stats_counts (platform, space, channel)",
            """CREATE TABLE stats_empty_searches (
                day DATE NOT NULL,
                platform TEXT NOT NULL,
                space TEXT NOT NULL,
                channel TEXT NOT NULL,
                words TEXT NOT NULL,
                count BIGINT NOT NULL,
                PRIMARY KEY (day, platform, space, channel, words)
            )""",
        ),
    ),
    (
        4,
        (
            # Worker leases (bot/daily/lease.py): a scheduler is alive while its row has not
            # expired, by this server's clock (`now()`), never a replica's; the holder renews
            # it. A `daily_posts.worker` with no live row here is a scheduler that is gone.
            """CREATE TABLE worker_leases (
                token TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at TIMESTAMPTZ NOT NULL
            )""",
        ),
    ),
    (
        5,
        (
            # Installs (bot/installs): the SQLite file's tables (its migration 8) in native
            # types, so every replica finds each workspace's token and the OAuth states.
            """CREATE TABLE installs (
                platform TEXT NOT NULL,
                enterprise_id TEXT NOT NULL,
                team_id TEXT NOT NULL,
                team_name TEXT NOT NULL,
                app_id TEXT NOT NULL,
                bot_token TEXT NOT NULL,
                bot_id TEXT NOT NULL,
                bot_user_id TEXT NOT NULL,
                bot_scopes TEXT NOT NULL,
                installer_id TEXT NOT NULL,
                installed_at TIMESTAMPTZ NOT NULL,
                bot_refresh_token TEXT,
                bot_token_expires_at TIMESTAMPTZ,
                PRIMARY KEY (platform, enterprise_id, team_id)
            )""",
            "CREATE TABLE oauth_states (state TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL)",
        ),
    ),
    (
        6,
        (
            # Discord shard leases (bot/daily/lease.py), as the SQLite file's, timed by this
            # server's clock: two live replicas never run one shard of one bot.
            """CREATE TABLE shard_leases (
                application TEXT NOT NULL,
                shard INTEGER NOT NULL,
                shard_count INTEGER NOT NULL,
                token TEXT NOT NULL,
                holder TEXT NOT NULL,
                expires_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (application, shard)
            )""",
        ),
    ),
    (
        7,
        (
            # The workspace of the one bot token, as the SQLite file's (its migration 10):
            # what the bare channel names of single-token days are keyed by later.
            """CREATE TABLE token_workspaces (
                platform TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                seen_at TIMESTAMPTZ NOT NULL
            )""",
        ),
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]

# pg_advisory_xact_lock key for migrations: any constant of our own ("lamb" in ASCII).
_MIGRATION_LOCK = 0x6C616D62
_VERSION_TABLE = "lambert_schema"
_MARK = re.compile(r"\?")


def numbered(sql: str) -> str:
    """`sql` with each `?` (SQLite's placeholder) turned into PostgreSQL's `$1`, `$2`, ...

    For statements both backends run as written. None of ours holds a `?` inside a string
    literal: every value is a bound parameter.
    """
    counter = itertools.count(1)
    return _MARK.sub(lambda _: f"${next(counter)}", sql)


def is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme in ("postgresql", "postgres")


def url_password(url: str) -> str:
    """The password in `url` (decoded), or ''."""
    return unquote(urlsplit(url).password or "")


def redacted(url: str) -> str:
    """`url` with its password replaced by `***`, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _scrub(text: str, url: str) -> str:
    """`text` with the URL and its password (raw and decoded) blanked, whatever quoted them."""
    text = text.replace(url, redacted(url))
    raw = urlsplit(url).password or ""
    for secret in sorted({raw, unquote(raw)}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


async def schema_version(conn: PgConnection) -> int:
    """How far the database's schema got; 0 for a database lambert never migrated."""
    if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", _VERSION_TABLE):
        return 0
    return int(await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {_VERSION_TABLE}"))


def _refuse_newer(where: str, version: int) -> None:
    if version > LATEST_VERSION:
        raise DatabaseError(
            f"{where}: schema version {version} is newer than this lambert understands "
            f"({LATEST_VERSION}). Upgrade lambert, or point LAMBERT_DATABASE_URL at another "
            "database; nothing was changed."
        )


async def migrate(conn: PgConnection, where: str) -> None:
    """Bring the database to LATEST_VERSION; refuse one written by a newer lambert.

    `where` names the database in errors (a redacted URL).
    """
    current = await schema_version(conn)
    _refuse_newer(where, current)  # before anything is written
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_VERSION_TABLE} (version INTEGER NOT NULL)"
            )
            # Re-read under the lock: another replica may have migrated meanwhile.
            found = await schema_version(conn)
            _refuse_newer(where, found)
            if found >= version:
                continue
            for statement in statements:
                await conn.execute(statement)
            await conn.execute(f"DELETE FROM {_VERSION_TABLE}")
            await conn.execute(f"INSERT INTO {_VERSION_TABLE} (version) VALUES ($1)", version)


@asynccontextmanager
async def open_pool(
    url: str, *, max_size: int = 10, connect_timeout: float = 10.0
) -> AsyncIterator[asyncpg.Pool]:
    """A pool of connections to the database at `url`, migrated to the latest schema.

    Every error that escapes names the database by its redacted URL: the password never
    reaches a message, a log line or a traceback's text.
    """
    where = redacted(url)
    try:
        pool = await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=connect_timeout,
            # No named prepared statements: behind PgBouncer in transaction mode, each
            # transaction may run on a different server connection, where a statement that
            # asyncpg prepared (and cached) on another one does not exist ("prepared statement
            # __asyncpg_stmt_1__ does not exist"). With the cache off asyncpg uses unnamed
            # statements, which live inside one protocol exchange. The store keeps no other
            # session state either: no SET, no session advisory lock, no LISTEN.
            statement_cache_size=0,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        detail = _scrub(str(exc) or type(exc).__name__, url)
        raise DatabaseError(
            f"{where}: cannot connect to PostgreSQL ({detail}). Check LAMBERT_DATABASE_URL "
            "(or --database-url): host, port, user, password and database name."
        ) from None
    try:
        async with pool.acquire() as conn:
            try:
                await migrate(conn, where)
            except asyncpg.PostgresError as exc:
                detail = _scrub(str(exc), url)
                raise DatabaseError(f"{where}: migrating the schema failed ({detail})") from None
        yield pool
    finally:
        await pool.close()
