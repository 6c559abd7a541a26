"""`lambert health` tells the truth: a platform's heartbeat is written only while it is
connected, so one whose connection is gone for good fails the check; health itself never
creates or writes a database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import time
from pathlib import Path

import pytest

from bot.cli.ops import health_command
from bot.config import Settings
from bot.serving import serve as serving
from bot.serving.health import STALE_AFTER_SECONDS
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.support.health import BEAT, SLOW, age, beats_of, heartbeat
from tests.support.serving import settings_for, until


async def health(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = await health_command(argparse.Namespace(json=False), settings)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("lost", ["discord", "slack"])
async def test_health_fails_once_a_platform_is_gone_for_good(
    discord_fake: RemoteDiscord,
    slack_fake: RemoteSlack,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    lost: str,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(serving, "HEARTBEAT_SECONDS", BEAT)
    kept = "slack" if lost == "discord" else "discord"
    settings = settings_for(db_path)
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop, backoff=SLOW))
    try:
        await until(
            lambda: heartbeat(db_path, "discord") and heartbeat(db_path, "slack"),
            "both heartbeats",
            task,
        )
        assert await health(settings, capsys) == (0, await_text(settings))
        # Gone, and every attempt to come back fails (Discord 503s its gateway; Slack 503s
        # apps.connections.open, which slack_sdk asks for a new socket).
        if lost == "discord":
            discord_fake.refuse_gateway(503)
            await discord_fake.drop_gateway(1000)
        else:
            slack_fake.fail_connections_open(503)
            await slack_fake.drop_sockets()
        await beats_of(db_path, kept, 2, task)  # the lost one may have had one more beat
        last = heartbeat(db_path, lost)
        await beats_of(db_path, kept, 3, task)
        assert heartbeat(db_path, lost) == last, f"{lost} still beats while not connected"
        # Time passes: its last heartbeat grows old, and nothing writes a new one.
        age(db_path, lost, STALE_AFTER_SECONDS + 1)
        await beats_of(db_path, kept, 3, task)
        code, out = await health(settings, capsys)
    finally:
        stop.set()
    assert await asyncio.wait_for(task, 15) == 0
    assert code == 1, out
    assert f"{lost}: NOT connected" in out and f"{kept}: connected" in out
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info]
    assert tracebacks == []


def await_text(settings: Settings) -> str:
    return (
        f"database: ok ({settings.db_path})\n"
        "discord: connected (last heartbeat 0 s ago)\n"
        "slack: connected (last heartbeat 0 s ago)\n"
    )


async def test_health_never_creates_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path / "not" / "yet" / "lambert.db")
    code, out = await health(settings, capsys)
    assert code == 1
    assert out == (
        f"database: none at {settings.db_path}: lambert has not run here yet (check LAMBERT_DB)\n"
    )
    assert list(tmp_path.iterdir()) == []


async def test_health_reads_a_database_without_writing_it(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('heartbeat:discord', ?)", (str(time.time()),))
    conn.commit()
    conn.close()
    db_path.chmod(0o600)  # as lambert creates it: no warning line about its mode
    before = db_path.read_bytes()
    code, out = await health(settings_for(db_path, slack=False), capsys)
    assert (code, out.splitlines()[1:]) == (0, ["discord: connected (last heartbeat 0 s ago)"])
    # Not migrated, no WAL switched on, no -wal or -shm file left beside it.
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["lambert.db"]


async def test_a_heartbeat_newer_than_the_clock_reads_as_just_now(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The wall clock stepped back (NTP) after a beat: the beat is as new as can be, never
    "-30 s ago"."""
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('heartbeat:discord', ?)", (str(time.time() + 30),))
    conn.commit()
    conn.close()
    db_path.chmod(0o600)
    code, out = await health(settings_for(db_path, slack=False), capsys)
    assert (code, out.splitlines()[1:]) == (0, ["discord: connected (last heartbeat 0 s ago)"])
