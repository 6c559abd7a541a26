"""Revision 0003: every Slack channel named by its workspace, once; token_workspaces goes.

Bare channel ids are keyed by the workspace the single token recorded (rekey.py); a database
that never recorded one keeps them, and says once that `lambert slack adopt` keys them.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from bot.storage.engine import downgrade as downgrade
from bot.storage.rekey import bare_rows, key_by_workspace

revision = "0003"
down_revision = "0002"

log = logging.getLogger("bot.storage.migrate")


def upgrade() -> None:
    conn = op.get_bind()
    recorded = conn.execute(
        sa.text("SELECT workspace_id FROM token_workspaces WHERE platform = 'slack'")
    ).scalar_one_or_none()
    if recorded:
        moved = key_by_workspace(conn, recorded)
        if moved.total:
            log.info("Slack channels keyed by workspace %s: %s", recorded, moved.summary())
    elif bare := bare_rows(conn):
        log.warning(
            "%d Slack daily schedule(s) name no workspace: run `lambert "
            "slack adopt --workspace T...` once with the workspace they belong to",
            bare,
        )
    op.drop_table("token_workspaces")
