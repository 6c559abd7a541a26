"""The installs in the shared state (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import ConfigError
from bot.installs.sealing import SEALED, VARIABLE, TokenSeal
from bot.installs.store import Install, Renewal
from bot.storage.engine import READ
from bot.storage.schema import insert, installs

log = logging.getLogger(__name__)

_rows = installs.c
_TOKENS = ("bot_token", "bot_refresh_token")
_KEY = ("platform", "enterprise_id", "team_id")
# PostgreSQL: a transaction-level advisory lock per install (released at commit, so it works
# behind PgBouncer in transaction mode), keyed by a hash of the install's key.
_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def _key(platform: str, enterprise_id: str, team_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        _rows.platform == platform, _rows.enterprise_id == enterprise_id, _rows.team_id == team_id
    )


class StateInstallStore:
    """Installs keyed by (platform, enterprise id, team id); tokens sealed by `seal`."""

    def __init__(self, engine: AsyncEngine, seal: TokenSeal | None = None) -> None:
        self.engine = engine
        self.seal = seal or TokenSeal("")
        self.reading = engine.execution_options(**READ)
        # Tasks of this process wait here for a renewal of the same install rather than
        # queue on the database's lock, each holding a connection.
        self._renewing: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def save(self, install: Install) -> None:
        """Create or replace the workspace's install (a reinstall, a rotated token)."""
        async with self.engine.begin() as conn:
            await self._save(conn, install)

    async def _save(self, conn: AsyncConnection, install: Install) -> None:
        row = asdict(install)
        add = insert(conn, installs).values(row | {n: self.seal.seal(row[n]) for n in _TOKENS})
        kept = {c.name: add.excluded[c.name] for c in installs.c if c.name not in _KEY}
        await conn.execute(add.on_conflict_do_update(index_elements=_KEY, set_=kept))

    def _install(self, row: Any) -> Install:
        return Install(**(dict(row) | {name: self.seal.open(row[name]) for name in _TOKENS}))

    async def check_tokens(self) -> None:
        """At start: ConfigError when LAMBERT_SECRET_KEY cannot open the sealed tokens; one
        WARNING line when installs keep their tokens in clear."""
        async with self.reading.connect() as conn:
            stored = [str(t) for t in (await conn.execute(sa.select(_rows.bot_token))).scalars()]
        if sealed := [t for t in stored if t.startswith(SEALED)]:
            self.seal.open(sealed[0])
        if clear := len(stored) - len(sealed):
            fix = (
                "run `lambert db rotate-key` to encrypt them with %s"
                if self.seal.on
                else "set %s (docs/security.md)"
            )
            why = "%d Slack install(s) keep their bot tokens in clear in the database: "
            log.warning(why + fix, clear, VARIABLE)

    async def reseal(self) -> int:
        """Every install's tokens (those in clear too) sealed again with LAMBERT_SECRET_KEY's
        first key, in one transaction; how many installs."""
        if not self.seal.on:
            raise ConfigError(f"{VARIABLE} is not set: set it (new key first) to encrypt with")
        async with self.engine.begin() as conn:
            rows = (await conn.execute(installs.select())).mappings().all()
            for row in rows:
                resealed = {name: self.seal.seal(self.seal.open(row[name])) for name in _TOKENS}
                where = _key(*(row[name] for name in _KEY))
                await conn.execute(installs.update().where(where).values(resealed))
        return len(rows)

    async def renew(self, install: Install, renewal: Renewal) -> Install | None:
        """`install` as stored now, after `renewal` ran on it locked against every other task
        and process (one token refresh in flight per install); what `renewal` returns is saved
        in the same transaction. None if the install is gone."""
        key = (install.platform, install.enterprise_id, install.team_id)
        # Between processes: SQLite's write lock (BEGIN IMMEDIATE), PostgreSQL's advisory lock.
        # Held while `renewal` asks Slack: a refresh is rare (twice a day per workspace) and
        # bounded by the web client's timeout.
        in_process = self._renewing.setdefault(key, asyncio.Lock())
        async with in_process, self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(_LOCK, {"key": "lambert.installs:" + "/".join(key)})
            row = (await conn.execute(installs.select().where(_key(*key)))).mappings().first()
            if row is None:
                return None
            current = self._install(row)
            renewed = await renewal(current)
            if renewed is None:
                return current
            await self._save(conn, renewed)
            return renewed

    async def _one(self, query: sa.Select[Any]) -> Install | None:
        async with self.reading.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return self._install(row) if row else None

    async def find(self, platform: str, enterprise_id: str, team_id: str) -> Install | None:
        return await self._one(installs.select().where(_key(platform, enterprise_id, team_id)))

    async def find_workspace(self, platform: str, workspace_id: str) -> Install | None:
        """The install serving `workspace_id`: a team's own, else the org-wide install of the
        organisation it names (an enterprise id)."""
        # A team may have two rows (installed alone, and again after joining a Grid
        # organisation): its own rows first, then the newest, as slack_sdk orders them.
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
        """Forget the workspace's install (uninstalled, tokens revoked); False if there was none."""
        async with self.engine.begin() as conn:
            gone = installs.delete().where(_key(platform, enterprise_id, team_id))
            return (await conn.execute(gone)).rowcount > 0
