"""Revision 0001: the state's schema as lambert created it before Alembic, on both backends.

The statements are the frozen steps of the hand-written migration lists they replace (the
SQLite file's PRAGMA user_version 2-10, PostgreSQL's `lambert_schema` 1-7), so a database made
here has the very DDL of one made then. A database made then is upgraded in place: a step
whose table, index or column exists is skipped (on PostgreSQL, every step up to the version
`lambert_schema` records), so every row is kept and nothing is created twice.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE: list[tuple[int, tuple[str, ...]]] = [
    (
        2,
        (
            # Daily posts. Quote ids are plain text, never foreign keys: replacing the corpus
            # (bot/quotes/store.py) must not cascade into schedules or their history.
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
            # One row per channel and local date, inserted before posting: its key is what
            # makes a day post at most once, across processes and restarts.
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
            # The quotes a channel has drawn in its current round of the shuffle bag.
            """CREATE TABLE daily_bag (
                platform TEXT NOT NULL,
                channel TEXT NOT NULL,
                quote_id TEXT NOT NULL,
                PRIMARY KEY (platform, channel, quote_id)
            ) WITHOUT ROWID""",
        ),
    ),
    (
        3,
        (
            # The scheduler holding a `claimed` or `sending` day (bot/daily/lease.py): another
            # process takes the day back only once that worker is gone. NULL: a claim made
            # before this column existed, or where no lease can be held (always taken back).
            "ALTER TABLE daily_posts ADD COLUMN worker TEXT",
        ),
    ),
    (
        4,
        (
            # Set once an attempt's outcome is unknown (a timeout, a dropped connection): the
            # day may have posted, so it never becomes `failed`, and it is re-sent only until
            # this instant, inside the platform's dedupe window (bot/daily/scheduler.py).
            "ALTER TABLE daily_posts ADD COLUMN resend_until TEXT",
        ),
    ),
    (
        5,
        (
            # One row per quote preview whose Post was clicked, inserted before posting: its
            # key makes a preview post once, however often Post is clicked or replayed.
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
    ),
    (
        6,
        (
            # Stats (bot/stats): counts only, per UTC day and channel, never a user id.
            # `space` is the workspace or server; '' for a daily post, which knows only its
            # channel. `detail` is a command's outcome, '' for the other metrics.
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
            # The normalised words of searches that found nothing, forgotten after 30 days.
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
    ),
    (
        7,
        (
            # Worker leases (bot/daily/lease.py), which replaced the lock files beside this
            # file: a scheduler is alive while its row has not expired. `expires_at` is a
            # julian day of SQLite's own clock, renewed by the holder; a `daily_posts.worker`
            # with no live row here is a scheduler that is gone.
            """CREATE TABLE worker_leases (
                token TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at REAL NOT NULL
            )""",
        ),
    ),
    (
        8,
        (
            # Installs (bot/installs): the workspaces a Slack app installed through OAuth
            # posts in, with each one's bot token (rotated in place), and the OAuth states of
            # installs under way. enterprise_id is '' outside Enterprise Grid.
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
    ),
    (
        9,
        (
            # Discord shard leases (bot/daily/lease.py): the process running a shard of a bot
            # holds its row, renewed, until it stops; a second process asking for a shard of
            # the same bot while the row lives is refused. `expires_at` as worker_leases'.
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
    ),
    (
        10,
        (
            # The workspace of the one bot token (Slack's SLACK_BOT_TOKEN), as auth.test
            # named it: when the app moves to many workspaces, the channels named bare in the
            # single-token days are keyed by it (bot/adapters/slack/adopt.py).
            """CREATE TABLE token_workspaces (
                platform TEXT PRIMARY KEY,
                workspace_id TEXT NOT NULL,
                seen_at TEXT NOT NULL
            )""",
        ),
    ),
]

POSTGRESQL: list[tuple[int, tuple[str, ...]]] = [
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


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        done = _postgres_version(bind)
        for statement in [s for v, step in POSTGRESQL if v > done for s in step]:
            op.execute(statement)
        return
    for statement in [s for _, step in SQLITE for s in step]:
        if not _exists(bind, statement):  # checked one by one: a step needs the one before
            op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("lambert's first revision is not undone")


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
