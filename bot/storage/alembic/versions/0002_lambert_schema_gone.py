"""Revision 0002: PostgreSQL's own version table goes; Alembic's alembic_version records it now."""

from __future__ import annotations

from alembic import op

from bot.storage.engine import downgrade as downgrade

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS lambert_schema")
