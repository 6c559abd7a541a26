"""Slack's installs in the shared state (SQLite or PostgreSQL), their tokens sealed at rest
with Fernet when LAMBERT_SECRET_KEY is set, kept in clear otherwise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import ConfigError
from bot.storage.engine import READ
from bot.storage.schema import insert, installs

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Install:
    """The app in one workspace: `enterprise_id` '' outside Enterprise Grid, `team_id` '' for
    an org-wide install; a refresh token and expiry when the app rotates its tokens."""

    platform: str
    enterprise_id: str
    team_id: str
    team_name: str
    app_id: str
    bot_token: str = field(repr=False)  # secrets: kept out of logs and tracebacks
    bot_id: str
    bot_user_id: str
    bot_scopes: str
    installer_id: str
    installed_at: datetime
    bot_refresh_token: str | None = field(default=None, repr=False)
    bot_token_expires_at: datetime | None = None


# Given the install as stored once its lock is held: a renewed install to save, or None when
# it needs nothing (another task or process renewed it meanwhile).
Renewal = Callable[[Install], Awaitable[Install | None]]
VARIABLE = "LAMBERT_SECRET_KEY"
# A sealed value starts with this, so a row written before the key was set (in clear) and one
# written after it can share a table until `lambert db rotate-key` seals the rest.
SEALED = "fernet:"
NEW_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
MISSING = (
    f"the installs' tokens in the database are encrypted, and {VARIABLE} is not set: set it to "
    "the key they were encrypted with"
)
WRONG = (
    f"{VARIABLE} does not decrypt the installs' tokens in the database: set it to the key they "
    "were encrypted with (while rotating: NEW,OLD, then run `lambert db rotate-key`)"
)


class TokenSeal:
    """MultiFernet over LAMBERT_SECRET_KEY's comma-separated keys: the first seals, every one
    opens (rotation: the new key first, then `lambert db rotate-key`); no key: in clear."""

    def __init__(self, keys: str) -> None:
        self._keys: MultiFernet | None = None
        if listed := [k.strip() for k in keys.split(",") if k.strip()]:
            from cryptography.fernet import Fernet, MultiFernet  # only when a key is set

            fernets = []
            for place, key in enumerate(listed, 1):
                try:
                    fernets.append(Fernet(key))
                except (ValueError, TypeError):  # the key itself is never shown
                    raise ConfigError(
                        f"{VARIABLE}: key {place} is not a Fernet key (44 characters of URL-safe "
                        f"base64); make one with: {NEW_KEY}"
                    ) from None
            self._keys = MultiFernet(fernets)

    @property
    def on(self) -> bool:
        return self._keys is not None

    def seal(self, token: str | None) -> str | None:
        """`token` as stored: sealed with the first key, or as it is without a key."""
        if token is None or self._keys is None:
            return token
        return SEALED + self._keys.encrypt(token.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The token `stored` holds; ConfigError (no token in it) for a missing or wrong key."""
        if stored is None or not stored.startswith(SEALED):
            return stored
        if self._keys is None:
            raise ConfigError(MISSING)
        from cryptography.fernet import InvalidToken

        try:
            return self._keys.decrypt(stored.removeprefix(SEALED).encode()).decode()
        except InvalidToken:
            raise ConfigError(WRONG) from None


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
        """At start: ConfigError if LAMBERT_SECRET_KEY cannot open them; a WARNING if in clear."""
        async with self.reading.connect() as conn:
            stored = [str(t) for t in (await conn.execute(sa.select(_rows.bot_token))).scalars()]
        if sealed := [t for t in stored if t.startswith(SEALED)]:
            self.seal.open(sealed[0])
        if clear := len(stored) - len(sealed):
            fix = "set %s (docs/security.md)"
            if self.seal.on:
                fix = "run `lambert db rotate-key` to encrypt them with %s"
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
        """`install` as stored, after `renewal` ran on it locked against every task and process,
        its answer saved in the same transaction; None if the install is gone."""
        key = (install.platform, install.enterprise_id, install.team_id)
        # Between processes: SQLite's write lock (BEGIN IMMEDIATE), PostgreSQL's advisory lock,
        # held while `renewal` asks Slack (rare, and bounded by the web client's timeout).
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
