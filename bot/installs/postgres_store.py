"""The installs in PostgreSQL, shared by replicas: the installs and oauth_states tables."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from bot.installs import statements as sql
from bot.installs.store import Install
from bot.storage.postgres import numbered

if TYPE_CHECKING:
    from asyncpg import Record


def _install(row: Record) -> Install:
    return Install(**dict(row.items()))


class PostgresInstallStore:
    """The installs tables in PostgreSQL (an InstallStore)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def save(self, install: Install) -> None:
        await self.pool.execute(numbered(sql.SAVE), *astuple(install))

    async def find(self, platform: str, enterprise_id: str, team_id: str) -> Install | None:
        row = await self.pool.fetchrow(numbered(sql.FIND), platform, enterprise_id, team_id)
        return _install(row) if row else None

    async def find_workspace(self, platform: str, workspace_id: str) -> Install | None:
        sql_text = numbered(sql.FIND_WORKSPACE)
        row = await self.pool.fetchrow(sql_text, platform, *[workspace_id] * 3)
        return _install(row) if row else None

    async def delete(self, platform: str, enterprise_id: str, team_id: str) -> bool:
        status = await self.pool.execute(numbered(sql.DELETE), platform, enterprise_id, team_id)
        return str(status).rsplit(" ", 1)[-1] != "0"

    async def issue_state(self, state: str, expires_at: datetime) -> None:
        await self.pool.execute(numbered(sql.ISSUE_STATE), state, expires_at)

    async def consume_state(self, state: str, now: datetime) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            found = await conn.fetchval(numbered(sql.CONSUME_STATE), state, now)
            await conn.execute(numbered(sql.FORGET_EXPIRED), now)
        return found is not None

    async def remember_token_workspace(
        self, platform: str, workspace_id: str, at: datetime
    ) -> None:
        await self.pool.execute(numbered(sql.REMEMBER_WORKSPACE), platform, workspace_id, at)

    async def token_workspace(self, platform: str) -> str | None:
        found = await self.pool.fetchval(numbered(sql.RECORDED_WORKSPACE), platform)
        return str(found) if found is not None else None
