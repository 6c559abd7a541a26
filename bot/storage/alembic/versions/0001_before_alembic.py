"""Revision 0001: the state's schema as lambert created it before Alembic, on both backends.

The statements are the frozen steps of the hand-written migration lists they replace (the
SQLite file's PRAGMA user_version 2-10, PostgreSQL's `lambert_schema` 1-7; their comments are
in git at b9050e3), so a database made here has the very DDL of one made then. A database
made then is upgraded in place: a step whose table, index or column exists is skipped (on
PostgreSQL, every step up to the version `lambert_schema` records), so every row is kept and
nothing is created twice.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from bot.storage.engine import downgrade as downgrade

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE: dict[int, tuple[str, ...]] = {
    2: (
        """CREATE TABLE daily_schedules (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                local_time TEXT NOT NULL,
                tz TEXT NOT NULL,
                theme TEXT,
                enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                disabled_reason TEXT,
                set_by TEXT NOT NULL,
                set_at TEXT NOT NULL,
                PRIMARY KEY (platform, channel)
            )""",
        """CREATE TABLE daily_posts (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                local_date TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('claimed', 'sending', 'retrying',
                    'posted', 'failed', 'missed', 'unknown')),
                quote_id TEXT,
                message_id TEXT,
                reason TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT,
                claim_token TEXT,
                claimed_at TEXT NOT NULL,
                finished_at TEXT,
                PRIMARY KEY (platform, channel, local_date)
            )""",
        "CREATE INDEX daily_posts_by_status ON daily_posts (status)",
        """CREATE TABLE daily_bag (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                quote_id TEXT NOT NULL,
                PRIMARY KEY (platform, channel, quote_id)
            ) WITHOUT ROWID""",
    ),
    3: ("ALTER TABLE daily_posts ADD COLUMN worker TEXT",),
    4: ("ALTER TABLE daily_posts ADD COLUMN resend_until TEXT",),
    5: (
        """CREATE TABLE preview_posts (
                preview_id TEXT PRIMARY KEY,
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                claimed_at TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('posting', 'posted')),
                message_id TEXT
            )""",
        "CREATE INDEX preview_posts_by_age ON preview_posts (claimed_at)",
    ),
    6: (
        """CREATE TABLE stats_counts (
                day TEXT NOT NULL,
                platform TEXT NOT NULL,
                space TEXT NOT NULL,
                channel TEXT NOT NULL,
                metric TEXT NOT NULL,
                name TEXT NOT NULL,
                detail TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (day, platform, space, channel, metric, name, detail)
            ) WITHOUT ROWID""",
        "CREATE INDEX stats_counts_by_place ON stats_counts (platform, space, channel)",
        """CREATE TABLE stats_empty_searches (
                day TEXT NOT NULL,
                platform TEXT NOT NULL,
                space TEXT NOT NULL,
                channel TEXT NOT NULL,
                words TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (day, platform, space, channel, words)
            ) WITHOUT ROWID""",
    ),
    7: (
        """CREATE TABLE worker_leases (
                token TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at REAL NOT NULL
            )""",
    ),
    8: (
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
                installed_at TEXT NOT NULL,
                bot_refresh_token TEXT,
                bot_token_expires_at TEXT,
                PRIMARY KEY (platform, enterprise_id, team_id)
            )""",
        "CREATE TABLE oauth_states (state TEXT PRIMARY KEY, expires_at TEXT NOT NULL)",
    ),
    9: (
        """CREATE TABLE shard_leases (
                application TEXT NOT NULL,
                shard INTEGER NOT NULL,
                shard_count INTEGER NOT NULL,
                token TEXT NOT NULL,
                holder TEXT NOT NULL,
                expires_at REAL NOT NULL,
                PRIMARY KEY (application, shard)
            )""",
    ),
    10: (
        """CREATE TABLE token_workspaces (
                platform TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                seen_at TEXT NOT NULL
            )""",
    ),
}

POSTGRESQL: dict[int, tuple[str, ...]] = {
    1: (
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
        "CREATE INDEX daily_posts_held ON daily_posts (status) "
        "WHERE status IN ('claimed', 'sending')",
        """CREATE TABLE daily_bag (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                quote_id TEXT NOT NULL,
                PRIMARY KEY (platform, channel, quote_id)
            )""",
    ),
    2: (
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
    3: (
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
    4: (
        """CREATE TABLE worker_leases (
                token TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at TIMESTAMPTZ NOT NULL
            )""",
    ),
    5: (
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
    6: (
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
    7: (
        """CREATE TABLE token_workspaces (
                platform TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                seen_at TIMESTAMPTZ NOT NULL
            )""",
    ),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        done = _postgres_version(bind)
        for statement in [s for v, step in POSTGRESQL.items() if v > done for s in step]:
            op.execute(statement)
        return
    for statement in [s for step in SQLITE.values() for s in step]:
        if not _exists(bind, statement):  # checked one by one: a step needs the one before
            op.execute(statement)


def _postgres_version(bind: sa.Connection) -> int:
    if not bind.exec_driver_sql("SELECT to_regclass('lambert_schema') IS NOT NULL").scalar():
        return 0
    found = bind.exec_driver_sql("SELECT coalesce(max(version), 0) FROM lambert_schema")
    return int(found.scalar() or 0)


def _exists(bind: sa.Connection, statement: str) -> bool:
    """Whether what a SQLite step creates is already in the file (made before Alembic)."""
    inspector = sa.inspect(bind)
    if found := re.match(r"\s*ALTER TABLE (\w+) ADD COLUMN (\w+)", statement):
        table, column = found.groups()
        return column in {c["name"] for c in inspector.get_columns(table)}
    if found := re.match(r"\s*CREATE TABLE (\w+)", statement):
        return inspector.has_table(found.group(1))
    if found := re.match(r"\s*CREATE INDEX (\w+) ON (\w+)", statement):
        index, table = found.groups()
        return index in {i["name"] for i in inspector.get_indexes(table)}
    raise ValueError(f"revision 0001: a step it cannot check: {statement[:40]}")
