"""The installs in the SQLite file: the installs and oauth_states tables."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime

import aiosqlite

from bot.installs import statements as sql
from bot.installs.store import Install
from bot.storage.transaction import write_transaction


def _install(row: aiosqlite.Row) -> Install:
    values = {name: row[name] for name in sql.FIELDS}
    for name in sql.INSTANTS:
        values[name] = datetime.fromisoformat(values[name]) if values[name] else None
    return Install(**values)


def _row(install: Install) -> tuple[object, ...]:
    return tuple(v.isoformat() if isinstance(v, datetime) else v for v in astuple(install))


class SqliteInstallStore:
    """The installs tables of one connection (an InstallStore)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def save(self, install: Install) -> None:
        async with write_transaction(self.conn):
            await self.conn.execute(sql.SAVE, _row(install))

    async def find(self, platform: str, enterprise_id: str, team_id: str) -> Install | None:
        async with self.conn.execute(sql.FIND, (platform, enterprise_id, team_id)) as cursor:
            row = await cursor.fetchone()
        return _install(row) if row else None

    async def find_workspace(self, platform: str, workspace_id: str) -> Install | None:
        args = (platform, workspace_id, workspace_id, workspace_id)
        async with self.conn.execute(sql.FIND_WORKSPACE, args) as cursor:
            row = await cursor.fetchone()
        return _install(row) if row else None

    async def delete(self, platform: str, enterprise_id: str, team_id: str) -> bool:
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(sql.DELETE, (platform, enterprise_id, team_id))
        return cursor.rowcount > 0

    async def issue_state(self, state: str, expires_at: datetime) -> None:
        async with write_transaction(self.conn):
            await self.conn.execute(sql.ISSUE_STATE, (state, expires_at.isoformat()))

    async def consume_state(self, state: str, now: datetime) -> bool:
        async with write_transaction(self.conn):
            cursor = await self.conn.execute(sql.CONSUME_STATE, (state, now.isoformat()))
            found = await cursor.fetchone()
            await self.conn.execute(sql.FORGET_EXPIRED, (now.isoformat(),))
        return found is not None

    async def remember_token_workspace(
        self, platform: str, workspace_id: str, at: datetime
    ) -> None:
        async with write_transaction(self.conn):
            await self.conn.execute(
                sql.REMEMBER_WORKSPACE, (platform, workspace_id, at.isoformat())
            )

    async def token_workspace(self, platform: str) -> str | None:
        async with self.conn.execute(sql.RECORDED_WORKSPACE, (platform,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None
