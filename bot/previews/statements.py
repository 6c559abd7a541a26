"""The previews' SQL that SQLite and PostgreSQL both run as written (`?` placeholders; see
bot.storage.postgres.numbered), so the two stores never drift."""

from __future__ import annotations

# Claims older than KEEP are forgotten as new ones are taken.
FORGET_OLD = "DELETE FROM preview_posts WHERE claimed_at < ?"
# Of concurrent claimants the first insert wins; the others insert nothing (and get no row).
CLAIM = (
    "INSERT INTO preview_posts (preview_id, platform, channel, claimed_at, status) "
    "VALUES (?, ?, ?, ?, 'posting') ON CONFLICT DO NOTHING RETURNING 1"
)
POSTED = "UPDATE preview_posts SET status = 'posted', message_id = ? WHERE preview_id = ?"
RELEASE = "DELETE FROM preview_posts WHERE preview_id = ? AND status = 'posting'"
OUTCOME = "SELECT status FROM preview_posts WHERE preview_id = ?"
# One workspace's bare channel names under its prefix (key_bare_channels). A claim's key is
# its preview, not its channel, so no two rows can meet under one name. LIKE: '/' is literal.
KEY_BARE = (
    "UPDATE preview_posts SET channel = CAST(? AS TEXT) || channel "
    "WHERE platform = ? AND channel NOT LIKE '%/%'"
)
