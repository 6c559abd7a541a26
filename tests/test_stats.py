"""Stats kept honestly: counted through the grammar, the scheduler and the CLI on a real
SQLite file; refused to members; nothing kept when off; no user id stored; search words
forgotten after 30 days; a failed write never reaches a command."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.chat.context import RequestContext
from bot.chat.grammar import another, answer, perform
from bot.chat.replies import QuoteReply, TextReply
from bot.chat.stats_verb import parse_request
from bot.cli import main
from bot.config import Settings, load_settings
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import Schedule
from bot.runtime import Core, open_core
from bot.stats.recorder import StatsRecorder
from bot.stats.store import COMMAND, POSTED, QUOTE, THEME, Place, Scope
from bot.stats.words import search_words
from tests.fakes.daily import FakeClock, RecordingPoster
from tests.support.paths import CORPUS

TODAY = date(2025, 3, 10)
ADMIN = RequestContext(
    platform="slack", channel="C1", space="T1", user="U0ADMIN01", user_name="ada", admin=True
)
MEMBER = RequestContext(
    platform="slack", channel="C1", space="T1", user="U0MEMBER1", user_name="bob", admin=False
)
NOWHERE = "zzqxv flurbish"  # matches no quote, and is no slip of a verb or theme


def in_channel(ctx: RequestContext, channel: str, space: str = "T1") -> RequestContext:
    return dataclasses.replace(ctx, channel=channel, space=space)


def rows(db: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4, 5, 6").fetchall()


async def tallies(core: Core, scope: Scope | None = None) -> dict[tuple[str, str, str], int]:
    await core.stats.flush()
    assert core.stats.store is not None
    found = await core.stats.store.tallies(date(2000, 1, 1), scope or Scope())
    return {(t.metric, t.name, t.detail): t.total for t in found}


async def test_every_command_counts_its_verb_outcome_and_quote(core: Core) -> None:
    theme = await answer(core, "dpo", MEMBER)
    await answer(core, "", MEMBER)
    await answer(core, "reward hacking", MEMBER)
    await answer(core, "search rlhf", MEMBER)
    await answer(core, f"search {NOWHERE}", MEMBER)
    await answer(core, NOWHERE, MEMBER)
    await answer(core, "themes", MEMBER)
    await answer(core, "daily off", MEMBER)  # admin-only: refused
    assert isinstance(theme, QuoteReply)
    assert core.stats.pending > 0
    counted = await tallies(core)
    assert {k: n for k, n in counted.items() if k[0] == COMMAND} == {
        (COMMAND, "theme", "quote"): 1,
        (COMMAND, "random", "quote"): 1,
        (COMMAND, "lookup", "quote"): 1,
        (COMMAND, "search", "list"): 1,
        (COMMAND, "search", "nothing"): 1,
        (COMMAND, "lookup", "nothing"): 1,
        (COMMAND, "themes", "text"): 1,
        (COMMAND, "daily", "refused"): 1,
    }
    assert counted[(THEME, "dpo-vs-ppo", "")] >= 1
    assert counted[(QUOTE, theme.quote.id, "")] >= 1
    assert sum(n for (metric, _, _), n in counted.items() if metric == QUOTE) == 3
    assert core.stats.pending == 0


async def test_another_and_structured_commands_count_where_they_happened(core: Core) -> None:
    first = await answer(core, "dpo", MEMBER)
    assert isinstance(first, QuoteReply)
    await another(core, "dpo", after=first.quote.id, ctx=MEMBER)
    await another(core, "dpo", after=first.quote.id)  # no context: not counted
    await perform("daily", MEMBER, lambda: answer(core, "daily"), core)
    counted = await tallies(core, Scope("slack", "T1", "C1"))
    assert counted[(COMMAND, "another", "quote")] == 1
    assert counted[(COMMAND, "daily", "refused")] == 1


async def test_lambert_ask_without_a_context_is_not_counted(core: Core, db_path: Path) -> None:
    await answer(core, "dpo")
    assert core.stats.pending == 0


async def test_stats_are_refused_to_members_through_the_grammar(core: Core) -> None:
    await answer(core, "dpo", MEMBER)
    for text in ("stats", "stats all 30", "stats 30"):
        reply = await answer(core, text, MEMBER)
        assert isinstance(reply, TextReply) and not reply.ok
        assert reply.title == "Only admins can see the stats."
        assert not any("Commands:" in line for line in reply.lines)
    counted = await tallies(core)
    assert counted[(COMMAND, "stats", "refused")] == 3


async def test_an_admin_sees_this_channel_or_the_whole_workspace(core: Core) -> None:
    await answer(core, "dpo", MEMBER)
    await answer(core, NOWHERE, in_channel(MEMBER, "C2"))
    await answer(core, "rlhf", in_channel(MEMBER, "C3", space="T2"))  # another workspace

    here = await answer(core, "stats", ADMIN)
    assert isinstance(here, TextReply) and here.ok
    assert here.title == "Stats for this channel, last 7 days"
    assert "Commands: 1 (theme 1); outcomes: quote 1" in here.lines

    everywhere = await answer(core, "stats all 30", ADMIN)
    assert isinstance(everywhere, TextReply)
    assert everywhere.title == "Stats for this workspace, last 30 days"
    # The `stats` before it counts too (a command is counted once answered).
    assert "Commands: 3 (lookup 1, stats 1, theme 1); outcomes: nothing 1, quote 1, text 1" in (
        everywhere.lines
    )
    assert any(
        "Searches that found nothing: \u201czzqxv flurbish\u201d 1" in line
        for line in everywhere.lines
    )
    assert not any("rlhf" in line for line in everywhere.lines)


@pytest.mark.parametrize(
    ("rest", "parsed"),
    [
        ("", (False, 7)),
        ("30", (False, 30)),
        ("all", (True, 7)),
        ("all 30", (True, 30)),
        ("30 ALL", (True, 30)),
        ("7", (False, 7)),
        ("14", None),
        ("all all", None),
        ("rlhf", None),
        ("３０", None),  # a full-width digit
        ("-7", None),
    ],
)
def test_the_stats_arguments(rest: str, parsed: tuple[bool, int] | None) -> None:
    assert parse_request(rest) == parsed


async def test_bad_arguments_get_the_usage(core: Core) -> None:
    reply = await answer(core, "stats please", ADMIN)
    assert isinstance(reply, TextReply) and reply.title == "Usage: `/lambert stats [all] [7|30]`"


async def test_all_in_a_direct_message_is_that_conversation_only(core: Core) -> None:
    dm = RequestContext(platform="discord", channel="55", space="", admin=True)
    other = RequestContext(platform="discord", channel="66", space="")
    await answer(core, "dpo", other)
    reply = await answer(core, "stats all", dm)
    assert isinstance(reply, TextReply)
    assert reply.title == "Stats for this channel, last 7 days"
    assert reply.lines[0] == "No workspace or server here: this conversation's stats only."
    assert reply.lines[1].startswith("Nothing counted from ")  # not channel 66's command


async def test_nothing_is_kept_with_stats_off(db_path: Path) -> None:
    settings = load_settings({"LAMBERT_STATS": "off"}, db_path=db_path, corpus_path=CORPUS)
    assert settings.stats is False
    async with open_core(settings) as core:
        for text in ("dpo", "search rlhf", NOWHERE, "stats all", "daily"):
            await answer(core, text, ADMIN)
        first = await answer(core, "rlhf", MEMBER)
        assert isinstance(first, QuoteReply)
        await another(core, "rlhf", first.quote.id, MEMBER)
        reply = await answer(core, "stats", ADMIN)
        assert isinstance(reply, TextReply)
        assert reply.lines[0] == "Stats are off here (LAMBERT_STATS=off): nothing new is counted."
        assert core.stats.pending == 0
    assert rows(db_path, "stats_counts") == []
    assert rows(db_path, "stats_empty_searches") == []


def test_lambert_stats_must_be_on_or_off(db_path: Path) -> None:
    from bot.config import ConfigError

    assert load_settings({"LAMBERT_STATS": " ON "}, db_path=db_path).stats is True
    with pytest.raises(ConfigError, match="LAMBERT_STATS='no' is not on or off"):
        load_settings({"LAMBERT_STATS": "no"}, db_path=db_path)


async def test_no_user_id_is_stored(settings: Settings, db_path: Path) -> None:
    ids = ("U0ADMIN01", "U0MEMBER1", "U0SECRET9", "123456789012345678", "ada", "bob")
    async with open_core(settings) as core:
        for ctx in (ADMIN, MEMBER):
            await answer(core, "dpo", ctx)
            await answer(core, f"search {NOWHERE} <@U0SECRET9>", ctx)
            await answer(core, f"{NOWHERE} 123456789012345678 bob@example.com", ctx)
            await answer(core, "stats all", ctx)
    stored = rows(db_path, "stats_counts") + rows(db_path, "stats_empty_searches")
    assert stored
    text = json.dumps(stored, default=str).casefold()
    for user in ids:
        assert user.casefold() not in text, user
    assert {r[4] for r in rows(db_path, "stats_empty_searches")} == {"zzqxv flurbish"}


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Quantum  LLaMA!", "quantum llama"),
        ("<@U024BE7LH> rlhf", "rlhf"),
        ("<@!123456789012345678> dpo <#C0123|general>", "dpo"),
        ("ask 123456789012345678 about U024BE7LH", "ask about"),
        ("mail ada@example.com", "mail"),
        ("<!here>", ""),
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight",
        ),
        ("ＲＬＨＦ", "rlhf"),
    ],
)
def test_search_words_keep_nothing_naming_a_person(typed: str, kept: str) -> None:
    assert search_words(typed) == kept


# Secrets as people paste them by mistake: none may reach the stats' rows or their output.
SECRETS = [
    "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",  # Slack bot token
    "xoxp-2345678901-2345678901-2345678901234-0123456789abcdef0123456789abcdef",
    "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef0123456789",
    "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",  # GitHub
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
    "AKIAIOSFODNN7EXAMPLE",  # AWS key ids, with and without a digit
    "AKIAIOSFODNNQEXAMPLE",
    "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",  # OpenAI-style
    "sk-AbCdEfGhIjKlMnOp1234QrStUvWxYz",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",  # a JWT
    "4111 1111 1111 1111",  # card numbers
    "4111-1111-1111-1111",
    "4111111111111111",
    "+1 (555) 010-9999",  # phone numbers
    "+49 30 1234567",
    "jdoe.qx@zqmail.test",
    "https://zqx.test/r?k=qwzpt",
    "www.zqxw.test",
    "deadbeefcafebabefeedface",  # hex and base64 blobs
    "0123456789abcdef0123456789abcdef",
    "SGVsbG8gV29ybGQhIFRoaXMgaXM=",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ",
    "Hunter2!",  # passwords
    "P@ssw0rd",
]


def pieces(secret: str) -> set[str]:
    """Every run of 4 letters or digits of `secret`, as stats would lower-case it."""
    runs = re.findall(r"[^\W_]+", secret.casefold())
    return {r[i : i + 4] for r in runs for i in range(len(r) - 3)}


@pytest.mark.parametrize("secret", SECRETS)
def test_search_words_keep_no_secret(secret: str) -> None:
    assert search_words(f"zzqxv {secret} flurbish") == "zzqxv flurbish"


@pytest.fixture
async def searched_secrets(settings: Settings) -> AsyncIterator[Path]:
    """A database whose searches, each a secret beside two unknown words, found nothing."""
    async with open_core(settings) as core:
        for secret in SECRETS:
            reply = await answer(core, f"{NOWHERE} {secret}", MEMBER)
            assert isinstance(reply, TextReply), secret  # found nothing: its words are kept
    yield settings.db_path


def test_no_secret_reaches_the_stats_rows_or_lambert_stats(
    capsys: pytest.CaptureFixture[str], searched_secrets: Path
) -> None:
    db_path = searched_secrets
    stored = rows(db_path, "stats_empty_searches")
    assert {r[4] for r in stored} == {NOWHERE} and sum(r[5] for r in stored) == len(SECRETS)
    assert main(["stats", "--json", "--db", str(db_path), "--corpus", str(CORPUS)]) == 0
    assert main(["stats", "--db", str(db_path), "--corpus", str(CORPUS)]) == 0
    out = capsys.readouterr().out.casefold()
    assert NOWHERE in out
    for secret in SECRETS:
        seen = [p for p in pieces(secret) if p in out and p not in NOWHERE]
        assert not seen, (secret, seen)


async def test_search_words_older_than_30_days_are_forgotten(core: Core, db_path: Path) -> None:
    clock = [datetime(2025, 3, 10, 12, tzinfo=UTC)]
    assert core.stats.store is not None
    stats = StatsRecorder(core.stats.store, now=lambda: clock[0])
    here = Place("slack", "T1", "C1")

    async def search_on(day: int, words: str) -> None:
        clock[0] = datetime(2025, 3, 10, 12, tzinfo=UTC) + timedelta(days=day)
        stats.empty_search(here, words)
        stats.command(here, "lookup", "nothing")
        assert await stats.flush()

    await search_on(0, "first words")
    await search_on(29, "later words")
    assert [r[0] for r in rows(db_path, "stats_empty_searches")] == ["2025-03-10", "2025-04-08"]
    await search_on(30, "latest words")
    assert [r[4] for r in rows(db_path, "stats_empty_searches")] == [
        "later words",
        "latest words",
    ]
    # The counts themselves are kept.
    assert sum(r[7] for r in rows(db_path, "stats_counts")) == 3


async def test_a_failed_write_keeps_the_counts_logs_one_line_and_never_fails_a_command(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    conn = core.quotes.conn
    await core.daily.store.schedules()  # the state opens on first use: its tables are made
    await conn.execute("ALTER TABLE stats_counts RENAME TO stats_counts_away")
    await conn.commit()
    with caplog.at_level(logging.INFO, logger="bot.stats"):
        for _ in range(3):
            reply = await answer(core, "dpo", MEMBER)
            assert isinstance(reply, QuoteReply)
            assert await core.stats.flush() is False
    failures = [r for r in caplog.records if "could not save" in r.getMessage()]
    assert len(failures) == 1
    assert "\n" not in failures[0].getMessage() and failures[0].exc_info is None
    assert "stats: could not save 3 counts (OperationalError: no such table" in (
        failures[0].getMessage()
    )
    await conn.execute("ALTER TABLE stats_counts_away RENAME TO stats_counts")
    await conn.commit()
    with caplog.at_level(logging.INFO, logger="bot.stats"):
        assert await core.stats.flush() is True
    assert "stats: saved again" in caplog.text
    counted = await tallies(core)
    assert counted[(COMMAND, "theme", "quote")] == 3
    assert counted[(THEME, "dpo-vs-ppo", "")] == 3


async def test_pending_counts_are_bounded_while_they_cannot_be_written(core: Core) -> None:
    assert core.stats.store is not None
    stats = StatsRecorder(core.stats.store, max_pending=3)
    for i in range(10):
        stats.command(Place("slack", "T1", f"C{i}"), "lookup", "quote")
    stats.command(Place("slack", "T1", "C0"), "lookup", "quote")
    assert stats.pending == 4


async def test_serve_writes_the_counts_periodically(core: Core) -> None:
    await answer(core, "dpo", MEMBER)
    stop = asyncio.Event()
    writer = asyncio.create_task(core.stats.flush_every(stop, seconds=0))
    for _ in range(1000):
        if core.stats.pending == 0:
            break
        await asyncio.sleep(0)
    stop.set()
    await writer
    assert core.stats.pending == 0
    assert core.stats.store is not None
    written = await core.stats.store.tallies(date(2000, 1, 1), Scope())
    assert [(t.name, t.total) for t in written if t.metric == COMMAND] == [("theme", 1)]


async def test_a_daily_post_counts_in_its_channels_workspace(core: Core) -> None:
    now = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    clock = FakeClock(now)
    poster = RecordingPoster("slack", clock)
    await answer(core, "dpo", MEMBER)  # C1 is used from workspace T1
    schedule = Schedule("slack", "C1", time(9), "Europe/Berlin", None, True, "test", now)
    await core.daily.store.save_schedules([schedule])
    scheduler = Scheduler(core.quotes, core.daily.with_clock(clock), {"slack": poster})
    await scheduler.tick()
    assert len(poster.posts) == 1
    assert (await tallies(core, Scope("slack", "T1")))[(POSTED, "daily", "")] == 1
    assert (await tallies(core, Scope("slack", "T1", "C1")))[(POSTED, "daily", "")] == 1
    assert (POSTED, "daily", "") not in await tallies(core, Scope("slack", "T2"))


@pytest.fixture
async def counted_db(settings: Settings) -> AsyncIterator[Path]:
    async with open_core(settings) as core:
        await answer(core, "dpo", MEMBER)
        await answer(core, NOWHERE, in_channel(MEMBER, "C2"))
        core.stats.posted(Place("slack", "T1", "C1"), "preview")
    yield settings.db_path


def test_lambert_stats_json(capsys: pytest.CaptureFixture[str], counted_db: Path) -> None:
    assert main(["stats", "--json", "--db", str(counted_db), "--corpus", str(CORPUS)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {
        "recording", "days", "from", "to", "scope", "commands", "shown", "posted",
        "empty_searches", "by_day", "channels",
    }  # fmt: skip
    assert payload["recording"] is True and payload["days"] == 7
    assert payload["scope"] == {"platform": None, "space": None, "channel": None}
    assert payload["commands"]["total"] == 2
    assert {"verb": "lookup", "outcome": "nothing", "count": 1} in payload["commands"]["by_verb"]
    assert payload["shown"]["total"] == 1
    assert payload["shown"]["themes"] == [{"theme": "dpo-vs-ppo", "count": 1}]
    assert payload["posted"] == {"preview": 1, "daily": 0}
    assert payload["empty_searches"] == [{"words": "zzqxv flurbish", "count": 1}]
    assert len(payload["by_day"]) == 7 and payload["by_day"][-1]["date"] == payload["to"]
    assert sum(d["commands"] for d in payload["by_day"]) == 2
    assert payload["channels"] == [
        {
            "platform": "slack",
            "space": "T1",
            "channel": "C1",
            "commands": 1,
            "shown": 1,
            "posted": 1,
        },
        {
            "platform": "slack",
            "space": "T1",
            "channel": "C2",
            "commands": 1,
            "shown": 0,
            "posted": 0,
        },
    ]


def test_lambert_stats_text_and_days(capsys: pytest.CaptureFixture[str], counted_db: Path) -> None:
    common = ["--db", str(counted_db), "--corpus", str(CORPUS)]
    assert main(["stats", "--days", "30", *common]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stats, every channel, last 30 days\n")
    assert "Commands: 2 (lookup 1, theme 1)" in out and "`" not in out
    assert "  slack/C1 in T1: 1, 1, 1" in out
    assert main(["stats", "--days", "0", *common]) == 2


def shape(value: Any) -> Any:
    """The keys of a JSON value, recursively (a list by its first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def test_the_cli_reference_documents_the_json_shape(
    capsys: pytest.CaptureFixture[str], counted_db: Path
) -> None:
    reference = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text("utf-8")
    section = reference.split("\n### stats\n", 1)[1].split("\n## ", 1)[0]
    documented = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    assert main(["stats", "--json", "--db", str(counted_db), "--corpus", str(CORPUS)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert shape(printed) == shape(documented)
