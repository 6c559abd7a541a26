"""The shared state's tables, once for SQLite and PostgreSQL: what Alembic's head must match;
their column types (native in PostgreSQL, text in SQLite) and the database's clock.

Stored forms are those from before SQLAlchemy (SQLite: ISO text, 0/1; PostgreSQL: native), so
old rows read back. Quote ids are plain text, never foreign keys: replacing the corpus must not
cascade into schedules or their history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from operator import methodcaller
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    Insert = PgInsert | SqliteInsert


def _utc_text(value: datetime) -> str:
    # Always in UTC, so the text of two instants compares as the instants do (a pass's
    # `next_due_at <= :now` is an index range over this text).
    return (value.astimezone(UTC) if value.tzinfo else value).isoformat()


def _utc(value: str) -> datetime:
    found = datetime.fromisoformat(value)
    # lambert writes aware UTC instants; a naive one can only have meant UTC.
    return found if found.tzinfo else found.replace(tzinfo=UTC)


class PerDialect(sa.TypeDecorator[Any]):
    """`native` in PostgreSQL; in SQLite a `text` column, converted by `to_text`/`from_text`."""

    impl = sa.Text
    cache_ok = True

    def __init__(
        self,
        native: TypeEngine[Any],
        text: TypeEngine[Any] | None = None,
        to_text: Callable[[Any], Any] = methodcaller("isoformat"),
        from_text: Callable[[Any], Any] = lambda value: value,
    ) -> None:
        super().__init__()
        self.native, self.text = native, text or sa.Text()
        self.to_text, self.from_text = to_text, from_text

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(self.text if dialect.name == "sqlite" else self.native)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return self.to_text(value) if value is not None and dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return self.from_text(value) if value is not None and dialect.name == "sqlite" else value


# An aware UTC datetime: TIMESTAMPTZ, or ISO-8601 text (`2026-12-01T09:00:00+00:00`).
Instant = PerDialect(sa.TIMESTAMP(timezone=True), to_text=_utc_text, from_text=_utc)
Day = PerDialect(sa.Date(), from_text=date.fromisoformat)
LocalTime = PerDialect(
    sa.Time(), to_text=lambda t: t.strftime("%H:%M"), from_text=time.fromisoformat
)
# A boolean: BOOLEAN, or INTEGER 0/1 (with a CHECK in the table).
Flag = PerDialect(sa.Boolean(), sa.Integer(), to_text=int, from_text=bool)
# When a lease ends, only ever computed by the database's clock (`db_later`): TIMESTAMPTZ,
# or a REAL julian day of SQLite's `julianday('now')`.
LeaseExpiry = PerDialect(sa.TIMESTAMP(timezone=True), sa.Float(), to_text=lambda value: value)


# The database's clock, never a host's: replicas whose clocks differ agree on which lease is
# live. The only dialect-specific SQL of the leases, compiled per backend.
class db_now(FunctionElement[Any]):
    inherit_cache = True


class db_later(FunctionElement[Any]):  # now plus a bound number of seconds
    inherit_cache = True


class seconds_until(FunctionElement[Any]):  # from now to a lease's expiry
    type = sa.Float()
    inherit_cache = True


def _render(sql: str) -> Callable[..., str]:
    def render(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return sql.format(compiler.process(element.clauses, **kw))

    return render


for _function, (_sqlite, _postgresql) in {  # {} is the function's argument
    db_now: ("julianday('now')", "now()"),
    db_later: ("(julianday('now') + {} / 86400.0)", "(now() + make_interval(secs => {}))"),
    seconds_until: (
        "(({}) - julianday('now')) * 86400.0",
        "extract(epoch FROM ({}) - now())::float8",
    ),
}.items():
    compiles(_function, "sqlite")(_render(_sqlite))
    compiles(_function)(_render(_postgresql))


def insert(conn: sa.Connection | AsyncConnection, table: sa.Table) -> Insert:
    """INSERT in the connection's dialect: both have ON CONFLICT (upserts)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # imported only where it is used

        return postgresql.insert(table)
    return sqlite.insert(table)


def _text(name: str, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.Text, nullable=kw.pop("nullable", False), **kw)


def _keys(*names: str) -> list[sa.Column[Any]]:
    return [_text(name, primary_key=True) for name in names]


def _in(column: str, *values: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})")


DAY_STATUSES = ("claimed", "sending", "retrying", "posted", "failed", "missed", "unknown")
metadata = sa.MetaData()

daily_schedules = sa.Table(
    "daily_schedules",
    metadata,
    *_keys("platform", "channel"),
    sa.Column("local_time", LocalTime, nullable=False),
    _text("tz"),
    # The days of the week it posts on, a mask with Monday as bit 0 (127: every day).
    sa.Column("weekdays", sa.SmallInteger, nullable=False, server_default="127"),
    _text("theme", nullable=True),
    sa.Column("enabled", Flag, nullable=False),
    _text("disabled_reason", nullable=True),
    _text("set_by"),
    sa.Column("set_at", Instant, nullable=False),
    # The next instant a scheduler pass must read it (bot/daily/plan.py next_due); NULL when
    # off or not computed yet (before revision 0006, or a new zone database): the next pass
    # plans it in full and fills it in.
    sa.Column("next_due_at", Instant),
    # A pass reads each platform's rows due by now in this order, and sleeps until the next.
    sa.Index("daily_schedules_due", "platform", "next_due_at", "channel"),
    # `daily tick --at` before a schedule was set replays that day: such rows are read too.
    sa.Index("daily_schedules_by_set_at", "set_at"),
)

# One row per channel and local date, inserted before posting: its key is what makes a day
# post at most once, across processes, replicas and restarts.
daily_posts = sa.Table(
    "daily_posts",
    metadata,
    *_keys("platform", "channel"),
    sa.Column("local_date", Day, primary_key=True),
    _text("status"),
    _text("quote_id", nullable=True),
    _text("message_id", nullable=True),
    _text("reason", nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Instant),
    _text("claim_token", nullable=True),
    sa.Column("claimed_at", Instant, nullable=False),
    sa.Column("finished_at", Instant),
    # The lease (bot/coordination) of the scheduler holding a claimed or sending day.
    _text("worker", nullable=True),
    # Set once an attempt's outcome is unknown: the day may have posted, so it is re-sent
    # only until then, inside the platform's dedupe window.
    sa.Column("resend_until", Instant),
    _in("status", *DAY_STATUSES),
    sa.UniqueConstraint("claim_token").ddl_if(dialect="postgresql"),
    # recover_claims looks for held days by status: a partial index where PostgreSQL has them.
    sa.Index("daily_posts_by_status", "status").ddl_if(dialect="sqlite"),
)
sa.Index(
    "daily_posts_held",
    daily_posts.c.status,
    postgresql_where=daily_posts.c.status.in_(("claimed", "sending")),
).ddl_if(dialect="postgresql")
# A pass reads the retrying days whose next attempt is due, and sleeps until the next one.
_RETRYING = daily_posts.c.status == "retrying"
sa.Index(
    "daily_posts_retrying",
    daily_posts.c.next_attempt_at,
    sqlite_where=_RETRYING,
    postgresql_where=_RETRYING,
)

# `tzdata`: the zone database version next_due_at was computed with (a new one recomputes).
daily_meta = sa.Table("daily_meta", metadata, *_keys("name"), _text("value"))

# The quotes a channel has drawn in its current round of the shuffle bag.
daily_bag = sa.Table(
    "daily_bag", metadata, *_keys("platform", "channel", "quote_id"), sqlite_with_rowid=False
)

# One row per quote preview whose Post was clicked, inserted before posting: its key makes a
# preview post once, however often Post is clicked or replayed, whichever replica got it.
preview_posts = sa.Table(
    "preview_posts",
    metadata,
    *_keys("preview_id"),
    _text("platform"),
    _text("channel"),
    sa.Column("claimed_at", Instant, nullable=False),
    _text("status"),
    _text("message_id", nullable=True),
    _in("status", "posting", "posted"),
    sa.Index("preview_posts_by_age", "claimed_at"),
)

# Stats: counts per UTC day and place, never a user id. `space`: the workspace or server, ''
# for a daily post (it knows only its channel); `detail`: a command's outcome, else ''.
_COUNT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
stats_counts = sa.Table(
    "stats_counts",
    metadata,
    sa.Column("day", Day, primary_key=True),
    *_keys("platform", "space", "channel", "metric", "name", "detail"),
    sa.Column("count", _COUNT, nullable=False),
    sa.Index("stats_counts_by_place", "platform", "space", "channel"),
    sqlite_with_rowid=False,
)
# The normalised words of searches that found nothing, forgotten after 30 days.
stats_empty_searches = sa.Table(
    "stats_empty_searches",
    metadata,
    sa.Column("day", Day, primary_key=True),
    *_keys("platform", "space", "channel", "words"),
    sa.Column("count", _COUNT, nullable=False),
    sqlite_with_rowid=False,
)

# A scheduler is alive while its row has not expired by the database's clock; a
# `daily_posts.worker` with no live row here is a scheduler gone.
worker_leases = sa.Table(
    "worker_leases",
    metadata,
    *_keys("token"),
    _text("holder"),
    sa.Column("expires_at", LeaseExpiry, nullable=False),
)

# The process running a Discord shard of a bot holds its row, renewed, until it stops: two
# live processes never run one shard of one bot.
shard_leases = sa.Table(
    "shard_leases",
    metadata,
    *_keys("application"),
    sa.Column("shard", sa.Integer, primary_key=True),
    sa.Column("shard_count", sa.Integer, nullable=False),
    _text("token"),
    _text("holder"),
    sa.Column("expires_at", LeaseExpiry, nullable=False),
)

# The workspaces a Slack app installed through OAuth posts in, with each one's bot token
# (rotated in place). enterprise_id is '' outside Enterprise Grid.
installs = sa.Table(
    "installs",
    metadata,
    *_keys("platform", "enterprise_id", "team_id"),
    *map(_text, ("team_name", "app_id", "bot_token", "bot_id", "bot_user_id")),
    *map(_text, ("bot_scopes", "installer_id")),
    sa.Column("installed_at", Instant, nullable=False),
    _text("bot_refresh_token", nullable=True),
    sa.Column("bot_token_expires_at", Instant),
)
