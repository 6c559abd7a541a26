"""Tokens at rest: with LAMBERT_SECRET_KEY set the database holds no token bytes, a key
rotates through `lambert db rotate-key`, and a missing or wrong key is one line."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, Secret, Settings
from bot.installs.store import Install, TokenSeal
from bot.runtime import open_core
from tests.support.cli import run

BOT_TOKEN = "xoxe.xoxb-1-sealed-bot-token-0123456789"
REFRESH_TOKEN = "xoxe-1-sealed-refresh-token-9876543210"
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def an_install(team: str = "T0SEALED") -> Install:
    return Install(
        platform="slack",
        enterprise_id="",
        team_id=team,
        team_name="Sealed",
        app_id="A0LAMBERT",
        bot_token=BOT_TOKEN,
        bot_id="B0LAMBERT",
        bot_user_id="U0LAMBERT",
        bot_scopes="commands,chat:write",
        installer_id="U0ADMIN",
        installed_at=datetime(2026, 12, 1, tzinfo=UTC),
        bot_refresh_token=REFRESH_TOKEN,
        bot_token_expires_at=datetime(2026, 12, 1, 12, tzinfo=UTC),
    )


def keyed(settings: Settings, keys: str) -> Settings:
    return replace(settings, secret_key=Secret(keys))


async def save(settings: Settings, *installs: Install) -> None:
    async with open_core(settings) as core:
        assert core.installs is not None
        for install in installs:
            await core.installs.save(install)


async def found(settings: Settings, team: str = "T0SEALED") -> Install | None:
    async with open_core(settings) as core:
        assert core.installs is not None
        return await core.installs.find("slack", "", team)


def database_bytes(db_path: Path) -> bytes:
    """The SQLite file and whatever its WAL and shared memory hold."""
    files = [db_path, *(db_path.with_name(db_path.name + s) for s in ("-wal", "-shm"))]
    return b"".join(f.read_bytes() for f in files if f.exists())


def test_with_a_key_the_database_file_holds_no_token_bytes(settings: Settings) -> None:
    sealed = keyed(settings, OLD)
    asyncio.run(save(sealed, an_install()))

    stored = database_bytes(settings.db_path)
    assert b"T0SEALED" in stored  # the row is there
    for secret in (BOT_TOKEN, REFRESH_TOKEN, "sealed-bot-token", "sealed-refresh"):
        assert secret.encode() not in stored
    assert b"fernet:" in stored
    again = asyncio.run(found(sealed))
    assert again is not None
    assert (again.bot_token, again.bot_refresh_token) == (BOT_TOKEN, REFRESH_TOKEN)


def test_without_a_key_tokens_stay_in_clear_and_start_says_so_in_one_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    asyncio.run(save(settings, an_install()))
    assert BOT_TOKEN.encode() in database_bytes(settings.db_path)

    with caplog.at_level(logging.WARNING, logger="bot.installs"):
        asyncio.run(found(settings))
    said = [r.getMessage() for r in caplog.records if r.name.startswith("bot.installs")]
    assert said == [
        "1 Slack install(s) keep their bot tokens in clear in the database: set "
        "LAMBERT_SECRET_KEY (docs/security.md)"
    ]


def test_rotate_key_reencrypts_every_token_with_the_first_key(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(save(settings, an_install("T0CLEAR")))  # written before the key was set
    asyncio.run(save(keyed(settings, OLD), an_install()))
    db = ["--db", str(settings.db_path)]

    monkeypatch.setenv("LAMBERT_SECRET_KEY", f"{NEW},{OLD}")
    code, out, err = run(capsys, *db, "db", "rotate-key", "--json")
    assert (code, json.loads(out)) == (0, {"installs": 2}), err

    stored = database_bytes(settings.db_path)
    assert BOT_TOKEN.encode() not in stored and REFRESH_TOKEN.encode() not in stored
    for team in ("T0SEALED", "T0CLEAR"):
        new_only = asyncio.run(found(keyed(settings, NEW), team))
        assert new_only is not None and new_only.bot_token == BOT_TOKEN
    with pytest.raises(ConfigError, match="does not decrypt"):
        asyncio.run(found(keyed(settings, OLD)))


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (None, "LAMBERT_SECRET_KEY is not set: set it to the key they were encrypted with"),
        (NEW, "LAMBERT_SECRET_KEY does not decrypt the installs' tokens in the database"),
        ("not-a-key", "LAMBERT_SECRET_KEY: key 1 is not a Fernet key"),
    ],
)
def test_a_missing_or_wrong_key_is_one_line(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    keys: str | None,
    said: str,
) -> None:
    asyncio.run(save(keyed(settings, OLD), an_install()))
    if keys is not None:
        monkeypatch.setenv("LAMBERT_SECRET_KEY", keys)

    code, out, err = run(capsys, "--db", str(settings.db_path), "daily", "list")

    assert code == 2 and out == ""
    assert err.count("\n") == 1 and said in err, err
    assert "Traceback" not in err and "sealed" not in err and OLD not in err


def test_the_keys_are_secrets_and_a_token_round_trips() -> None:
    seal = TokenSeal(f" {NEW} , {OLD} ")
    assert seal.open(seal.seal("xoxb-1")) == "xoxb-1"
    assert seal.open("xoxb-clear") == "xoxb-clear"  # written before the key was set
    assert TokenSeal("").seal("xoxb-1") == "xoxb-1"


async def test_both_backends_store_only_sealed_tokens(
    settings: Settings, backend_url: str | None
) -> None:
    import sqlalchemy as sa

    from bot.storage.engine import open_engine
    from bot.storage.schema import installs

    sealed = keyed(replace(settings, database_url=Secret(backend_url or "")), OLD)
    await save(sealed, an_install())

    async with open_engine(settings.db_path, backend_url or "") as engine, engine.connect() as conn:
        rows = await conn.execute(sa.select(installs.c.bot_token, installs.c.bot_refresh_token))
        stored = [value for row in rows for value in row]
    assert len(stored) == 2 and all(v.startswith("fernet:") for v in stored)
    assert BOT_TOKEN not in stored and REFRESH_TOKEN not in stored
