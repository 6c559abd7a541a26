"""Revision 0005: a schedule's days of the week (`weekdays`, a mask); existing ones every day."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.engine import downgrade as downgrade

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # In batch mode, as env.py renders: SQLite adds a NOT NULL column with a default in place.
    with op.batch_alter_table("daily_schedules") as batch:
        batch.add_column(
            sa.Column("weekdays", sa.SmallInteger, nullable=False, server_default="127")
        )
