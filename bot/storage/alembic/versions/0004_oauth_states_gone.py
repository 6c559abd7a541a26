"""Revision 0004: the oauth_states table goes; an install under way's state is signed instead.

bot/adapters/slack/oauth_state.py signs each state; one issued before is refused, and that
installer starts again.
"""

from __future__ import annotations

from alembic import op

from bot.storage.engine import downgrade as downgrade

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.drop_table("oauth_states")
