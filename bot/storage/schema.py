"""The shared state's tables, once for SQLite and PostgreSQL: what Alembic's head must match.

Stored forms are those from before SQLAlchemy (SQLite: ISO text, 0/1; PostgreSQL: native), so
old rows read back. Quote ids are plain text, never foreign keys: replacing the corpus must not
cascade into schedules or their history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from bot.storage.types import Day, Flag, LeaseExpiry, LocalTime, PerDialect

# Imported with the tables by the stores and revision 0006.
from bot.storage.types import Instant as Instant
from bot.storage.types import db_later as db_later
from bot.storage.types import db_now as db_now
from bot.storage.types import seconds_until as seconds_until

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    Insert = PgInsert | SqliteInsert


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
