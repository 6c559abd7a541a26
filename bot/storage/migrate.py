"""Running Alembic from code at start: once across processes, refusing a newer database."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.connection import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = Path(__file__).with_name("alembic")
_REVISION = re.compile(r'^(down_revision|revision) = "([^"]*)"', re.MULTILINE)
# pg_advisory_xact_lock key for migrations: any constant of our own ("lamb" in ASCII).
MIGRATION_LOCK = 0x6C616D62


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration in code (no alembic.ini): our scripts, this connection."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def head() -> str:
    """The newest revision, read from the scripts' `revision`/`down_revision` lines: importing
    Alembic (and every dialect it knows) took about half a second a start, every `lambert daily
    tick` too, where a database at the head needs none of it. Tested against Alembic's answer."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (SCRIPTS / "versions").glob("*.py"):
        for kind, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            (revisions if kind == "revision" else parents).add(value)
    (newest,) = revisions - parents
    return newest


async def upgrade(engine: AsyncEngine, where: str) -> None:
    """Bring the state's schema to this lambert's head, in one transaction under a lock
    (PostgreSQL's advisory lock, SQLite's BEGIN IMMEDIATE): replicas starting together migrate
    once. A database migrated by a newer lambert is refused before anything is written."""
    async with engine.connect() as conn:
        if await conn.run_sync(_current) == head():
            await conn.rollback()
            return  # the usual start: no write transaction
        await conn.rollback()
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, where)


def _current(conn: Connection) -> str | None:
    """The database's revision; None for a database Alembic never touched."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(conn: Connection, where: str) -> None:
    from alembic import command, util
    from alembic.script import ScriptDirectory

    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    current = _current(conn)  # re-read under the lock: another process may have migrated
    scripts = ScriptDirectory.from_config(config())
    try:
        scripts.get_revision(current or "base")  # "base": a database Alembic never touched
    except util.CommandError:  # a revision of a newer lambert: not in our scripts
        raise DatabaseError(
            f"{where}: the schema is at revision {current}, newer than this lambert "
            f"understands ({scripts.get_current_head()}). Upgrade lambert, or point it at "
            "another database; nothing was changed."
        ) from None
    command.upgrade(config(conn), "head")
