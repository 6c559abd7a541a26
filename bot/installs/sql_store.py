"""The installs in the shared state (SQLite or PostgreSQL), OAuth states, token workspaces."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.installs.store import Install
from bot.storage.engine import READ
from bot.storage.schema import insert, installs, oauth_states, token_workspaces

_rows, _states, _tokens = installs.c, oauth_states.c, token_workspaces.c
_FIELDS = tuple(f.name for f in fields(Install))
_KEY = ("platform", "enterprise_id", "team_id")


def _key(platform: str, enterprise_id: str, team_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        _rows.platform == platform, _rows.enterprise_id == enterprise_id, _rows.team_id == team_id
    )


class StateInstallStore:
    """The installs, oauth_states and token_workspaces tables on the state's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.reading = engine.execution_options(**READ)

    async def save(self, install: Install) -> None:
        async with self.engine.begin() as conn:
            add = insert(conn, installs).values(asdict(install))
            kept = {name: add.excluded[name] for name in _FIELDS if name not in _KEY}
            await conn.execute(add.on_conflict_do_update(index_elements=_KEY, set_=kept))

    async def _one(self, query: sa.Select[Any]) -> Install | None:
        async with self.reading.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return Install(**row) if row else None

    async def find(self, platform: str, enterprise_id: str, team_id: str) -> Install | None:
        return await self._one(installs.select().where(_key(platform, enterprise_id, team_id)))

    async def find_workspace(self, platform: str, workspace_id: str) -> Install | None:
        # A team may have two rows: installed alone (enterprise '') and again after it joined
        # a Grid organisation (enterprise E...): the team's own rows first, then the newest,
        # as slack_sdk's SQLAlchemy installation store orders by installed_at descending.
        own = _rows.team_id == workspace_id
        org = sa.and_(_rows.team_id == "", _rows.enterprise_id == workspace_id)
        query = (
            installs.select()
            .where(_rows.platform == platform, sa.or_(own, org))
            .order_by(sa.case((own, 0), else_=1), _rows.installed_at.desc())
            .limit(1)
        )
        return await self._one(query)

    async def delete(self, platform: str, enterprise_id: str, team_id: str) -> bool:
        async with self.engine.begin() as conn:
            gone = installs.delete().where(_key(platform, enterprise_id, team_id))
            return (await conn.execute(gone)).rowcount > 0

    async def issue_state(self, state: str, expires_at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(oauth_states.insert().values(state=state, expires_at=expires_at))

    async def consume_state(self, state: str, now: datetime) -> bool:
        used = (
            oauth_states.delete()
            .where(_states.state == state, _states.expires_at > now)
            .returning(_states.state)
        )
        async with self.engine.begin() as conn:
            found = (await conn.execute(used)).first()
            await conn.execute(oauth_states.delete().where(_states.expires_at <= now))
        return found is not None

    async def remember_token_workspace(
        self, platform: str, workspace_id: str, at: datetime
    ) -> None:
        async with self.engine.begin() as conn:
            seen = insert(conn, token_workspaces).values(
                platform=platform, workspace_id=workspace_id, seen_at=at
            )
            await conn.execute(
                seen.on_conflict_do_update(
                    index_elements=["platform"],
                    set_={"workspace_id": seen.excluded.workspace_id, "seen_at": at},
                )
            )

    async def token_workspace(self, platform: str) -> str | None:
        found = sa.select(_tokens.workspace_id).where(_tokens.platform == platform)
        async with self.reading.connect() as conn:
            return (await conn.execute(found)).scalar()
