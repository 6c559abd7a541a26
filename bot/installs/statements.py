"""The installs' SQL that SQLite and PostgreSQL both run as written (`?` placeholders)."""

from __future__ import annotations

from dataclasses import fields

from bot.installs.store import Install

# The columns are the Install's fields, in its order: a row is dataclasses.astuple(install).
FIELDS = tuple(f.name for f in fields(Install))
COLUMNS = ", ".join(FIELDS)
INSTANTS = ("installed_at", "bot_token_expires_at")  # ISO text in SQLite, native in PostgreSQL
SAVE = (
    f"INSERT INTO installs ({COLUMNS}) VALUES ({', '.join('?' for _ in FIELDS)}) "
    "ON CONFLICT (platform, enterprise_id, team_id) DO UPDATE SET "
    "team_name = excluded.team_name, app_id = excluded.app_id, "
    "bot_token = excluded.bot_token, bot_id = excluded.bot_id, "
    "bot_user_id = excluded.bot_user_id, bot_scopes = excluded.bot_scopes, "
    "installer_id = excluded.installer_id, installed_at = excluded.installed_at, "
    "bot_refresh_token = excluded.bot_refresh_token, "
    "bot_token_expires_at = excluded.bot_token_expires_at"
)
KEY = "platform = ? AND enterprise_id = ? AND team_id = ?"
FIND = f"SELECT {COLUMNS} FROM installs WHERE {KEY}"
DELETE = f"DELETE FROM installs WHERE {KEY}"
# A workspace's own install, or its organisation's (Enterprise Grid, installed org-wide: no
# team). A team may have two rows: installed alone (enterprise '') and again after it joined
# a Grid organisation (enterprise E...); the team's own rows come first, then the newest, as
# slack_sdk's SQLAlchemy installation store orders by installed_at descending.
# Binds: platform, workspace id three times.
FIND_WORKSPACE = (
    f"SELECT {COLUMNS} FROM installs WHERE platform = ? "
    "AND (team_id = ? OR (team_id = '' AND enterprise_id = ?)) "
    "ORDER BY (team_id = ?) DESC, installed_at DESC LIMIT 1"
)
ISSUE_STATE = "INSERT INTO oauth_states (state, expires_at) VALUES (?, ?)"
FORGET_EXPIRED = "DELETE FROM oauth_states WHERE expires_at <= ?"
CONSUME_STATE = "DELETE FROM oauth_states WHERE state = ? AND expires_at > ? RETURNING state"
# The workspace of the one bot token (single-token mode), as auth.test named it last.
REMEMBER_WORKSPACE = (
    "INSERT INTO token_workspaces (platform, workspace_id, seen_at) VALUES (?, ?, ?) "
    "ON CONFLICT (platform) DO UPDATE SET workspace_id = excluded.workspace_id, "
    "seen_at = excluded.seen_at"
)
RECORDED_WORKSPACE = "SELECT workspace_id FROM token_workspaces WHERE platform = ?"
