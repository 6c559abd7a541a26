"""Revision 0006: each schedule's next due instant, indexed, so a pass reads only what is due.

`next_due_at` starts NULL: the first pass plans those rows in full and fills it in. Retrying
days get an index; `daily_meta` keeps the zone database version the instants came from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.engine import downgrade as downgrade
from bot.storage.schema import Instant

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("daily_schedules") as batch:
        batch.add_column(sa.Column("next_due_at", Instant))
    op.create_index(
        "daily_schedules_due", "daily_schedules", ["platform", "next_due_at", "channel"]
    )
    op.create_index("daily_schedules_by_set_at", "daily_schedules", ["set_at"])
    retrying = sa.text("status = 'retrying'")
    op.create_index(
        "daily_posts_retrying",
        "daily_posts",
        ["next_attempt_at"],
        sqlite_where=retrying,
        postgresql_where=retrying,
    )
    op.create_table(
        "daily_meta",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
