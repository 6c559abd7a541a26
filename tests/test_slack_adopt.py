"""Slack channels keyed once, by workspace and channel id, with one token or many.

Alembic revision 0003 keys the channels an older lambert named by bare id with the workspace
its one token recorded, then drops that record; `lambert slack adopt` keys those of a
database that never recorded one; `lambert daily set` names a bare id by SLACK_BOT_TOKEN's
workspace (auth.test). The re-keying itself runs on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack import poster as slack_poster
from bot.adapters.slack.adopt import NO_WORKSPACE, USE_THE_OLD_ONE
from bot.adapters.slack.poster import check_token
from bot.config import ConfigError, Settings
from bot.daily.schedules import Schedule
from bot.runtime import open_core
from bot.storage import schema
from bot.storage.engine import head, open_engine
from bot.storage.rekey import Rekeyed, key_by_workspace
from tests.fakes.slack_platform import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.support.cli import run
from tests.support.paths import CORPUS

NOW = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)
WORKSPACE = "T0AAA"
BARE = "C0BARE"
KEYED = f"{WORKSPACE}/{BARE}"
DISCORD_CHANNEL = "123456789012345678"
FIXTURE = Path(__file__).parent / "fixtures" / "state-before-alembic.sqlite"
DUMP = FIXTURE.with_suffix(".postgres.sql")
PASTED_TOKEN = "xoxb-1234-5678-abcdefSECRET"


@pytest.fixture
async def engine(db_path: Path, backend_url: str | None) -> AsyncIterator[AsyncEngine]:
    """The state's engine at this lambert's head, on SQLite and on PostgreSQL."""
    async with open_engine(db_path, backend_url or "") as opened:
        yield opened


def schedule_row(platform: str, channel: str, at: time = time(9)) -> dict[str, Any]:
    return dict(
        platform=platform, channel=channel, local_time=at, tz="UTC", theme=None, enabled=True,
        disabled_reason=None, set_by="test", set_at=NOW,
    )  # fmt: skip


def day_row(channel: str, status: str, token: str) -> dict[str, Any]:
    return dict(
        platform="slack", channel=channel, local_date=DAY, status=status, quote_id="q1",
        message_id=None, reason=None, attempts=1, next_attempt_at=None, claim_token=token,
        claimed_at=NOW, finished_at=None, worker=None, resend_until=None,
    )  # fmt: skip


def count_row(channel: str, n: int) -> dict[str, Any]:
    return dict(
        day=DAY, platform="slack", space=WORKSPACE, channel=channel, metric="command",
        name="random", detail="quote", count=n,
    )  # fmt: skip


async def rows(engine: AsyncEngine, table: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        query = sa.select(*(table.c[c] for c in columns)).order_by(*(table.c[c] for c in columns))
        return [tuple(r) for r in await conn.execute(query)]


async def test_every_bare_slack_row_is_keyed_a_keyed_one_wins_and_stats_are_summed(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(schema.daily_schedules),
            [
                schedule_row("slack", BARE),
                schedule_row("slack", "C0BOTH"),
                schedule_row("slack", f"{WORKSPACE}/C0BOTH", time(18)),  # set up since: wins
                schedule_row("discord", DISCORD_CHANNEL),
            ],
        )
        await conn.execute(
            sa.insert(schema.daily_posts),
            [day_row(BARE, "sending", "t1"), day_row("C0BOTH", "posted", "t2")],
        )
        await conn.execute(
            sa.insert(schema.daily_bag), [dict(platform="slack", channel=BARE, quote_id="q1")]
        )
        await conn.execute(
            sa.insert(schema.preview_posts),
            [
                dict(
                    preview_id="p1", platform="slack", channel=BARE, claimed_at=NOW, status="posted"
                )
            ],
        )
        await conn.execute(
            sa.insert(schema.stats_counts), [count_row(BARE, 2), count_row(KEYED, 3)]
        )

    async with engine.begin() as conn:
        moved = await conn.run_sync(key_by_workspace, WORKSPACE)
    async with engine.begin() as conn:
        again = await conn.run_sync(key_by_workspace, WORKSPACE)

    assert moved == Rekeyed(schedules=1, days=2, bags=1, previews=1, stats_rows=1)
    assert again == Rekeyed() and again.total == 0
    assert moved.summary() == "1 schedule, 2 days, 1 bag, 1 preview, 1 stats row"
    assert await rows(engine, schema.daily_schedules, "platform", "channel", "local_time") == [
        ("discord", DISCORD_CHANNEL, time(9)),
        ("slack", KEYED, time(9)),
        ("slack", f"{WORKSPACE}/C0BOTH", time(18)),
    ]
    # A day caught sending keeps its claim token: its outcome lands on the keyed day.
    assert await rows(engine, schema.daily_posts, "channel", "status", "claim_token") == [
        (KEYED, "sending", "t1"),
        (f"{WORKSPACE}/C0BOTH", "posted", "t2"),
    ]
    assert await rows(engine, schema.daily_bag, "channel") == [(KEYED,)]
    assert await rows(engine, schema.preview_posts, "channel") == [(KEYED,)]
    assert await rows(engine, schema.stats_counts, "channel", "count") == [(KEYED, 5)]


async def test_an_org_wide_installs_organisation_id_is_a_workspace_too(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(schema.daily_schedules), [schedule_row("slack", BARE)])
        assert await conn.run_sync(key_by_workspace, "E0ORG") == Rekeyed(schedules=1)
    assert await rows(engine, schema.daily_schedules, "channel") == [(f"E0ORG/{BARE}",)]


@pytest.mark.parametrize("workspace", ["", "t0aaa", "T0AAA/", "C0BARE", "G0X", "U0", PASTED_TOKEN])
async def test_a_workspace_id_that_is_not_one_is_refused_and_nothing_moves(
    engine: AsyncEngine, workspace: str
) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(schema.daily_schedules), [schedule_row("slack", BARE)])
    with pytest.raises(ValueError, match="not a Slack workspace id") as refused:
        async with engine.begin() as conn:
            await conn.run_sync(key_by_workspace, workspace)
    assert PASTED_TOKEN not in str(refused.value)
    assert await rows(engine, schema.daily_schedules, "channel") == [(BARE,)]


async def test_the_upgrade_keys_by_the_recorded_workspace_once_and_drops_the_record(
    db_path: Path, backend_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """A database written before Alembic (a SQLite file, a PostgreSQL dump): its token
    recorded workspace T0AAA, its bare channel C1 has a schedule, two days and a bag;
    T0AAA/C2 was keyed already."""
    if backend_url is None:
        shutil.copy(FIXTURE, db_path)
    else:
        conn = await asyncpg.connect(backend_url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")  # a clean slate
            await conn.execute(DUMP.read_text(encoding="utf-8"))
        finally:
            await conn.close()

    with caplog.at_level(logging.INFO, logger="bot.storage"):
        async with open_engine(db_path, backend_url or "") as engine:
            channels = await rows(engine, schema.daily_schedules, "platform", "channel")
            days = await rows(engine, schema.daily_posts, "channel", "local_date", "status")
            bag = await rows(engine, schema.daily_bag, "channel", "quote_id")
            async with engine.connect() as conn:
                tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
                version = (await conn.execute(sa.text("SELECT * FROM alembic_version"))).all()

    slack = sorted(c for p, c in channels if p == "slack")
    assert slack == ["T0AAA/C1", "T0AAA/C2"]
    assert [(c, d.isoformat(), s) for c, d, s in days if "C1" in c] == [
        ("T0AAA/C1", "2026-11-30", "posted"),
        ("T0AAA/C1", "2026-12-01", "claimed"),
    ]
    assert sorted(c for c, _ in bag) == ["T0AAA/C1", "T0AAA/C1", "T0AAA/C2"]
    assert "token_workspaces" not in tables and version == [(head(),)]
    keyed = [r.getMessage() for r in caplog.records if "keyed by workspace" in r.getMessage()]
    assert keyed == ["Slack channels keyed by workspace T0AAA: 1 schedule, 2 days, 1 bag, "
                     "0 previews, 0 stats rows"]  # fmt: skip


# -- the command line (SQLite: the command opens the same engine either way) -----------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_path: Path) -> None:
    monkeypatch.setenv("LAMBERT_DB", str(db_path))
    monkeypatch.setenv("LAMBERT_CORPUS", str(CORPUS))


@pytest.fixture
def aimed_at(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> FakeSlack:
    """lambert's Slack web client calls the fake (its default base_url, bound at import)."""
    monkeypatch.setitem(slack_poster.web_client.__kwdefaults__, "base_url", fake_slack.api_url)
    return fake_slack


async def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # main() runs its own asyncio.run, so it gets a thread; fakes keep serving on this loop.
    return await asyncio.to_thread(run, capsys, *argv)


async def seed_bare_days(settings: Settings) -> None:
    """What an older lambert left: a Slack channel by bare id, its token's workspace never
    recorded."""
    async with open_core(settings) as core:
        for platform, channel in (("slack", BARE), ("discord", DISCORD_CHANNEL)):
            schedule = Schedule(platform, channel, time(9), "UTC", None, True, "test", NOW)
            await core.daily.store.save_schedules([schedule])


async def test_the_upgrade_with_no_recorded_workspace_says_so_once_and_moves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database from before Alembic whose single token never recorded its workspace: the
    upgrade keeps its bare channel as it is and says once how to key it."""
    db_path = tmp_path / "before.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "state-before-alembic.sqlite", db_path)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("DELETE FROM token_workspaces")
    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        async with open_engine(db_path):
            pass
        async with open_engine(db_path):  # at the head: nothing runs again
            pass
    warned = [r.getMessage() for r in caplog.records if "name no workspace" in r.getMessage()]
    assert warned == [
        "1 Slack daily schedule(s) name no workspace: run `lambert slack adopt --workspace "
        "T...` once with the workspace they belong to"
    ]
    with closing(sqlite3.connect(db_path)) as conn:
        found = conn.execute(
            "SELECT channel FROM daily_schedules WHERE platform = 'slack' ORDER BY channel"
        ).fetchall()
    assert [c for (c,) in found] == ["C1", "T0AAA/C2"]


async def schedule_channels(settings: Settings) -> list[str]:
    async with open_core(settings) as core:
        return [s.channel for s in await core.daily.store.schedules()]


async def test_cli_keys_a_database_that_never_recorded_its_workspace(
    settings: Settings,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seed_bare_days(settings)

    code, out, err = await run_cli(capsys, "slack", "adopt", "--workspace", WORKSPACE)

    assert code == 0, err
    assert (
        out == "Keyed by workspace T0AAA: 1 schedule, 0 days, 0 bags, 0 previews, 0 stats rows.\n"
    )
    assert await schedule_channels(settings) == [DISCORD_CHANNEL, KEYED]
    code, out, err = await run_cli(capsys, "slack", "adopt", "--workspace", WORKSPACE, "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "workspace": WORKSPACE, "schedules": 0, "days": 0, "bags": 0, "previews": 0,
        "stats_rows": 0, "moved": 0,
    }  # fmt: skip


async def test_cli_asks_auth_test_with_the_token_when_no_workspace_is_named(
    settings: Settings,
    cli_env: None,
    aimed_at: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seed_bare_days(settings)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)

    code, out, err = await run_cli(capsys, "slack", "adopt")

    assert code == 0, err
    assert out.startswith(f"Keyed by workspace {TEAM_ID}: 1 schedule")
    assert [c.bearer for c in aimed_at.calls("auth.test")] == [f"{TEAM_ID}#0"]
    assert await schedule_channels(settings) == [DISCORD_CHANNEL, f"{TEAM_ID}/{BARE}"]


@pytest.mark.parametrize(
    "case", ["no token, no workspace", "token rejected", "bad id", "channel id", "pasted token"]
)
async def test_cli_refusals_are_one_line_exit_2_and_change_nothing(
    settings: Settings,
    cli_env: None,
    aimed_at: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    await seed_bare_days(settings)
    argv = ["slack", "adopt"]
    if case == "token rejected":
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        aimed_at.revoked.add(BOT_TOKEN)
    elif case != "no token, no workspace":
        argv += ["--workspace", {"bad id": "t0aaa", "channel id": BARE}.get(case, PASTED_TOKEN)]

    code, out, err = await run_cli(capsys, *argv)

    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("lambert: ")
    assert BOT_TOKEN not in err and PASTED_TOKEN not in err
    expected = {
        "no token, no workspace": NO_WORKSPACE,
        "token rejected": "Slack rejected SLACK_BOT_TOKEN (token_revoked)",
        "bad id": "'t0aaa' is not a Slack workspace id",
        "channel id": "'C0BARE' is not a Slack workspace id",
        "pasted token": "lambert: the value given is not a Slack workspace id",
    }[case]
    assert expected in err
    assert await schedule_channels(settings) == [DISCORD_CHANNEL, BARE]


async def test_the_token_workspace_is_the_team_or_an_org_wide_installs_organisation(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.tokens["xoxb-grid-a"] = "T0GRIDA#9"  # a workspace of a Grid organisation
    fake_slack.tokens["xoxb-org"] = "E0GRID#9"  # installed for the whole organisation

    assert await check_token(fake_slack.client()) == TEAM_ID
    assert await check_token(fake_slack.client("xoxb-grid-a")) == "T0GRIDA"
    assert await check_token(fake_slack.client("xoxb-org")) == "E0GRID"


async def test_a_rejected_token_is_a_config_error_that_names_the_variable_not_the_token(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.revoked.add(BOT_TOKEN)
    with pytest.raises(ConfigError) as refused:
        await check_token(fake_slack.client(), USE_THE_OLD_ONE)
    message = str(refused.value)
    assert "SLACK_BOT_TOKEN" in message and "--workspace" in message
    assert BOT_TOKEN not in message and "\n" not in message


# -- `lambert daily set` and `list` -----------------------------------------------------------


def daily_set(channel: str) -> list[str]:
    return f"daily set --platform slack --channel {channel} --time 9:00 --tz UTC".split()


async def test_daily_set_and_off_name_a_bare_channel_by_the_tokens_workspace(
    cli_env: None,
    aimed_at: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)

    code, out, err = await run_cli(capsys, *daily_set("C0GENERAL"))
    assert code == 0, err
    assert out.startswith(f"slack/{TEAM_ID}/C0GENERAL: a quote every day at 09:00")
    assert len(aimed_at.calls("auth.test")) == 1
    code, out, err = await run_cli(capsys, *daily_set("T0OTHER/C0ELSEWHERE"))  # as is: no question
    assert code == 0, err
    assert len(aimed_at.calls("auth.test")) == 1

    code, out, _ = await run_cli(capsys, "daily", "list", "--json")
    listed = [(r["workspace"], r["channel"]) for r in json.loads(out)["schedules"]]
    assert listed == [(TEAM_ID, "C0GENERAL"), ("T0OTHER", "C0ELSEWHERE")]
    off = ["daily", "off", "--platform", "slack", "--channel", "C0GENERAL"]
    code, out, err = await run_cli(capsys, *off)
    assert (code, out) == (0, f"slack/{TEAM_ID}/C0GENERAL: daily quote off\n"), err


async def test_daily_set_without_a_token_asks_for_the_workspace(
    settings: Settings, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run_cli(capsys, *daily_set("C0GENERAL"))

    assert (code, out) == (2, "")
    assert err == (
        "lambert: --channel C0GENERAL names no workspace: give WORKSPACE/C0GENERAL (a team id "
        "like T0123ABCD, or an org-wide install's E...), or set SLACK_BOT_TOKEN\n"
    )
    assert await schedule_channels(settings) == []
