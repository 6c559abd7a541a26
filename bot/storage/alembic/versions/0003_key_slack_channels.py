"""Revision 0003: every Slack channel named by its workspace, once; token_workspaces goes.

The bare channel ids of single-token days are keyed by the workspace that token recorded
(bot/storage/rekey.py). A database that never recorded one keeps them bare, and says so here,
once: `lambert slack adopt --workspace T...` keys them.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from bot.storage.rekey import bare_rows, key_by_workspace

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

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


def downgrade() -> None:
    raise NotImplementedError("lambert's revisions are not undone")
