"""Alembic's environment: the state's tables, on the connection lambert hands it (engine.py),
or for a developer's `alembic revision --autogenerate`, on sqlalchemy.url."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.storage.engine import comparison
from bot.storage.schema import metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        **comparison(connection.dialect),
        target_metadata=metadata,
        # SQLite alters a table by copying it (batch mode); PostgreSQL alters in place.
        render_as_batch=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if (given := context.config.attributes.get("connection")) is not None:
    _configure(given)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url, or run the migrations through lambert"
    with create_engine(url).begin() as connection:
        _configure(connection)
