"""The schema as ordered migrations; `PRAGMA user_version` records how far a file got."""

from __future__ import annotations

# Append only: never edit a migration that has shipped. Each runs with its version bump in one
# transaction, so a crash leaves the file at the old version or the new one, never between.
MIGRATIONS: list[tuple[int, tuple[str, ...]]] = [
    (
        1,
        (
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE themes (
                slug TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                position INTEGER NOT NULL,
                quote_count INTEGER NOT NULL
            )""",
            """CREATE TABLE theme_aliases (
                alias TEXT PRIMARY KEY,
                slug TEXT NOT NULL REFERENCES themes(slug) ON DELETE CASCADE
            )""",
            # position / theme_position are dense 0..n-1, so a random quote is one index lookup.
            """CREATE TABLE quotes (
                rowid INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                theme TEXT NOT NULL REFERENCES themes(slug),
                topic TEXT NOT NULL,
                source TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('quote', 'paraphrase')),
                text TEXT NOT NULL,
                position INTEGER NOT NULL UNIQUE,
                theme_position INTEGER NOT NULL,
                UNIQUE (theme, theme_position)
            )""",
            # Contentless: the text lives once, in `quotes`; the index only maps words to rowids.
            """CREATE VIRTUAL TABLE quotes_fts USING fts5(
                topic, theme_title, text,
                content='', tokenize='porter unicode61 remove_diacritics 2'
            )""",
            # Unstemmed words of the corpus, for "did you mean" on typos.
            """CREATE TABLE vocabulary (
                word TEXT PRIMARY KEY,
                first TEXT NOT NULL,
                length INTEGER NOT NULL
            ) WITHOUT ROWID""",
            "CREATE INDEX vocabulary_by_shape ON vocabulary (first, length)",
        ),
    ),
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

LATEST_VERSION = MIGRATIONS[-1][0]
