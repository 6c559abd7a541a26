"""The installs in the SQLite file: the installs and oauth_states tables."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.installs import statements as sql
from bot.installs.store import Install
from bot.storage.transaction import write_transaction


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _install(row: aiosqlite.Row) -> Install:
    return Install(
        platform=row["platform"],
        enterprise_id=row["enterprise_id"],
        team_id=row["team_id"],
        team_name=row["team_name"],
        app_id=row["app_id"],
        bot_token=row["bot_token"],
        bot_id=row["bot_id"],
        bot_user_id=row["bot_user_id"],
        bot_scopes=row["bot_scopes"],
        installer_id=row["installer_id"],
        installed_at=datetime.fromisoformat(row["installed_at"]),
        bot_refresh_token=row["bot_refresh_token"],
        bot_token_expires_at=_instant(row["bot_token_expires_at"]),
    )


class SqliteInstallStore:
    """The installs tables of one connection (an InstallStore)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def save(self, install: Install) -> None:
        expires = install.bot_token_expires_at
        async with write_transaction(self.conn):
            await self.conn.execute(
                sql.SAVE,
                (
                    install.platform,
                    install.enterprise_id,
                    install.team_id,
                    install.team_name,
                    install.app_id,
                    install.bot_token,
                    install.bot_id,
                    install.bot_user_id,
                    install.bot_scopes,
                    install.installer_id,
                    install.installed_at.isoformat(),
                    install.bot_refresh_token,
                    expires.isoformat() if expires else None,
                ),
            )

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
