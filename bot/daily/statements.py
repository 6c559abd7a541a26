"""The daily SQL that SQLite and PostgreSQL both run as written, so the two stores never drift.

Written with `?` placeholders (SQLite's); bot.storage.postgres.numbered() turns them into
PostgreSQL's `$1, $2`. Each backend binds its own types: ISO text in the SQLite file, native
dates, times and booleans in PostgreSQL. What only one backend can say (SQLite's write lock
taken up front, PostgreSQL's `FOR UPDATE`) stays in that backend's store.
"""

from __future__ import annotations

from dataclasses import dataclass

# (platform, channel, local date): the key of a day's row.
KEY = "platform = ? AND channel = ? AND local_date = ?"

# Whether any daily table names a channel of the platform without its workspace (the
# work of key_bare_channels); binds: the platform, three times.
ANY_BARE = "SELECT " + " OR ".join(
    f"EXISTS (SELECT 1 FROM {table} WHERE platform = ? AND channel NOT LIKE '%/%')"
    for table in ("daily_schedules", "daily_posts", "daily_bag")
)

# A day that may have reached the platform (`resend_until` set) is never called failed.
FAILED_OR_UNKNOWN = "CASE WHEN resend_until IS NULL THEN 'failed' ELSE 'unknown' END"

STOPPED_BEFORE_POSTING = "the process stopped before posting"
STOPPED_WHILE_POSTING = (
    "the process stopped while posting: the message may or may not have gone out"
)

SAVE_SCHEDULE = (
    "INSERT INTO daily_schedules (platform, channel, local_time, tz, theme, enabled, "
    "disabled_reason, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (platform, channel) DO UPDATE SET local_time = excluded.local_time, "
    "tz = excluded.tz, theme = excluded.theme, enabled = excluded.enabled, "
    "disabled_reason = excluded.disabled_reason, set_by = excluded.set_by, "
    "set_at = excluded.set_at"
)
TURN_OFF = (
    "UPDATE daily_schedules SET enabled = FALSE, disabled_reason = NULL, set_by = ?, "
    "set_at = ? WHERE platform = ? AND channel = ?"
)
DISABLE = (
    "UPDATE daily_schedules SET enabled = FALSE, disabled_reason = ? "
    "WHERE platform = ? AND channel = ?"
)
# Every enabled schedule whose channel starts with a prefix (a Slack workspace's "TEAM/"),
# turned off with the reason shown; substr, not LIKE, so no character of it is a wildcard.
DISABLE_WHERE = (
    "UPDATE daily_schedules SET enabled = FALSE, disabled_reason = ? "
    "WHERE platform = ? AND enabled AND substr(channel, 1, ?) = ? RETURNING channel"
)
SCHEDULE = "SELECT * FROM daily_schedules WHERE platform = ? AND channel = ?"
SCHEDULES = "SELECT * FROM daily_schedules ORDER BY platform, channel"

RECORDS_SINCE = "SELECT * FROM daily_posts WHERE local_date >= ?"
LATEST = (
    "SELECT p.* FROM daily_posts p JOIN (SELECT platform, channel, "
    "max(local_date) AS local_date FROM daily_posts GROUP BY platform, channel) m "
    "USING (platform, channel, local_date)"
)

MISSED = (
    "INSERT INTO daily_posts (platform, channel, local_date, status, claimed_at, finished_at) "
    "VALUES (?, ?, ?, 'missed', ?, ?) ON CONFLICT DO NOTHING"
)
RECLAIM = (
    "UPDATE daily_posts SET status = 'claimed', claim_token = ?, claimed_at = ?, "
    f"worker = ?, attempts = attempts + 1 WHERE {KEY} AND status = 'retrying'"
)
SET_QUOTE = f"UPDATE daily_posts SET quote_id = ? WHERE {KEY}"
# Idempotent, so a call whose answer was lost can be made again: only this claim's holder
# ever marks its token `sending`.
START_SENDING = (
    "UPDATE daily_posts SET status = 'sending' "
    "WHERE claim_token = ? AND status IN ('claimed', 'sending')"
)
# Matched on the token, not the status: if another process's start marked this claim
# `unknown` meanwhile, the real outcome overwrites that guess.
POSTED = (
    "UPDATE daily_posts SET status = 'posted', message_id = ?, reason = NULL, "
    "next_attempt_at = NULL, finished_at = ? WHERE claim_token = ?"
)
# COALESCE keeps the first window: it counts from the first attempt that may have posted.
RETRY = (
    "UPDATE daily_posts SET status = 'retrying', reason = ?, next_attempt_at = ?, "
    "finished_at = ?, resend_until = COALESCE(resend_until, ?) WHERE claim_token = ?"
)
UNKNOWN = (
    "UPDATE daily_posts SET status = 'unknown', reason = ?, next_attempt_at = NULL, "
    "finished_at = ? WHERE claim_token = ?"
)
FAILED = (
    f"UPDATE daily_posts SET status = {FAILED_OR_UNKNOWN}, reason = ?, "
    "next_attempt_at = NULL, finished_at = ? WHERE claim_token = ? RETURNING status"
)
GIVE_UP = (
    f"UPDATE daily_posts SET status = {FAILED_OR_UNKNOWN}, reason = ?, "
    f"next_attempt_at = NULL, finished_at = ? WHERE {KEY} AND status = 'retrying' "
    "RETURNING status"
)
# Recovery: each guarded by the claim and the status it found, so two replicas never settle
# a day twice, nor a claim made since by someone else.
RECOVER_CLAIMED = (
    f"UPDATE daily_posts SET status = 'retrying', next_attempt_at = ?, reason = "
    f"'{STOPPED_BEFORE_POSTING}' WHERE claim_token = ? AND status = 'claimed'"
)
RECOVER_SENDING = (
    "UPDATE daily_posts SET status = 'unknown', reason = ?, finished_at = ? "
    "WHERE claim_token = ? AND status = 'sending'"
)

# One workspace's bare channel names under its prefix (key_bare_channels), table by table in
# one transaction: each bare row is renamed in place unless a row already has its new name
# (set up since, in many workspaces: that one wins), then the bare rows left are dropped.
# Renamed in place, not copied, so a day keeps its claim_token (unique in PostgreSQL).
# LIKE: '/' is no wildcard.
_BARE = "platform = ? AND channel NOT LIKE '%/%'"


def _key_bare(table: str, key: str) -> tuple[str, str]:
    """(rename: prefix, platform, prefix; drop the rest: platform) for one daily table whose
    primary key is platform, channel and the columns in `key`."""
    same = "".join(f" AND k.{column} = {table}.{column}" for column in key.split())
    rename = (
        f"UPDATE {table} SET channel = CAST(? AS TEXT) || channel WHERE {_BARE} "
        f"AND NOT EXISTS (SELECT 1 FROM {table} k WHERE k.platform = {table}.platform "
        f"AND k.channel = CAST(? AS TEXT) || {table}.channel{same})"
    )
    return rename, f"DELETE FROM {table} WHERE {_BARE}"


KEY_BARE_SCHEDULES = _key_bare("daily_schedules", "")
KEY_BARE_DAYS = _key_bare("daily_posts", "local_date")
KEY_BARE_BAG = _key_bare("daily_bag", "quote_id")
BARE_BAGS = f"SELECT count(DISTINCT channel) FROM daily_bag WHERE {_BARE}"

# The shuffle bag's rows.
BAG_ADD = "INSERT INTO daily_bag (platform, channel, quote_id) VALUES (?, ?, ?)"
BAG_PUT_BACK = "DELETE FROM daily_bag WHERE platform = ? AND channel = ? AND quote_id = ?"
BAG_EMPTY = "DELETE FROM daily_bag WHERE platform = ? AND channel = ?"
# The quote that closed a round: a new one may not open with it.
LAST_SHOWN = (
    "SELECT quote_id FROM daily_posts WHERE platform = ? AND channel = ? "
    "AND status IN ('posted', 'unknown') ORDER BY local_date DESC LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class LeaseSql:
    """The worker-lease statements (bot/daily/lease.py), timed by the database's clock."""

    take: str  # (token, holder, ttl seconds): insert, or renew whatever its state
    renew: str  # (ttl seconds, token): only a lease still live
    drop: str  # (token,)
    purge: str  # expired leases (a missing one counts as expired: dropping them is safe)
    held: str  # every held day, with `live`: whether its worker's lease is live


def lease_sql(now: str, later: str) -> LeaseSql:
    """The lease statements for a backend whose clock reads `now` and whose `later` is that
    plus a bound number of seconds."""
    live = (
        f"EXISTS (SELECT 1 FROM worker_leases l WHERE l.token = p.worker AND l.expires_at > {now})"
    )
    return LeaseSql(
        take=(
            f"INSERT INTO worker_leases (token, holder, expires_at) VALUES (?, ?, {later}) "
            "ON CONFLICT (token) DO UPDATE SET holder = excluded.holder, "
            "expires_at = excluded.expires_at"
        ),
        renew=(
            f"UPDATE worker_leases SET expires_at = {later} WHERE token = ? AND expires_at > {now}"
        ),
        drop="DELETE FROM worker_leases WHERE token = ?",
        purge=f"DELETE FROM worker_leases WHERE expires_at <= {now}",
        held=(
            f"SELECT p.*, {live} AS live FROM daily_posts p "
            "WHERE p.status IN ('claimed', 'sending')"
        ),
    )


@dataclass(frozen=True, slots=True)
class ShardLeaseSql:
    """The Discord shard-lease statements (bot/daily/lease.py), timed by the database's clock."""

    others: str  # (application, token): other tokens' live leases, with `seconds_left`
    take: str  # (application, shard, count, token, holder, ttl seconds): insert or take over
    drop: str  # (token,)


def shard_lease_sql(now: str, later: str, left: str) -> ShardLeaseSql:
    """The shard-lease statements for a backend whose clock reads `now`, whose `later` is that
    plus a bound number of seconds, and whose `left` is the seconds from now to `expires_at`."""
    return ShardLeaseSql(
        others=(
            f"SELECT holder, shard, shard_count, {left} AS seconds_left FROM shard_leases "
            f"WHERE application = ? AND token <> ? AND expires_at > {now} ORDER BY shard"
        ),
        take=(
            "INSERT INTO shard_leases (application, shard, shard_count, token, holder, "
            f"expires_at) VALUES (?, ?, ?, ?, ?, {later}) ON CONFLICT (application, shard) "
            "DO UPDATE SET shard_count = excluded.shard_count, token = excluded.token, "
            "holder = excluded.holder, expires_at = excluded.expires_at"
        ),
        drop="DELETE FROM shard_leases WHERE token = ?",
    )
