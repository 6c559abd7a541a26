"""From one Slack workspace to many: the channels named bare in single-token days are keyed by
that token's workspace (schedules, history, bags, preview claims, stats), by
`lambert slack adopt` or at a many-workspace start from the workspace recorded for the token.

Every store test runs on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.adapters.slack import poster as slack_poster
from bot.adapters.slack.adopt import (
    NO_WORKSPACE,
    Adopted,
    adopt_recorded,
    adopt_workspace,
    token_workspace_id,
)
from bot.cli import main
from bot.config import ConfigError, Secret, Settings
from bot.daily.days import PostStatus
from bot.daily.schedules import Schedule
from bot.installs.store import Install
from bot.previews.store import MemoryPreviewStore
from bot.runtime import Core, open_core
from bot.stats.store import CountKey, Scope, WordsKey
from tests.fakes.slack_platform import (
    BOT_TOKEN,
    CHANNEL_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    TEAM_ID,
    FakeSlack,
)
from tests.support.paths import CORPUS
from tests.support.slack import Sleeps, install, oauth_settings, running_platform

# slack_sdk sends oauth.v2.access's client credentials with aiohttp's BasicAuth, which
# aiohttp 3.12 calls deprecated; the library's business, not this test's.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

NOW = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)
WORKSPACE = "T0AAA"
BARE = "C0BARE"
KEYED = f"{WORKSPACE}/{BARE}"
DISCORD_CHANNEL = "123456789012345678"
BAD_PREFIXES = [
    "",
    "T0AAA",
    "t0aaa/",
    "T0AAA/C0BARE/",
    "T0 AAA/",
    "T0AAA/'; DROP TABLE x; --",
    "C0BARE/",  # a channel id, not a workspace's
    "G0PRIVATE/",
    "0AAA/",
    "T/",
]
# Not workspace ids: a channel's (C..., G..., D...), a user's, lower case, a pasted token.
BAD_WORKSPACES = ["", "t0aaa", "T0AAA/", "T0AAA/C0BARE", "T0 AAA", "C0BARE", "G0X", "U0USER", "T"]
PASTED_TOKEN = "xoxb-1234-5678-abcdefSECRET"


@pytest.fixture
def shared_settings(settings: Settings, backend_url: str | None) -> Settings:
    """The settings of `many_core` (tests.support.slack_fixtures), for the command line."""
    return replace(settings, database_url=Secret(backend_url or ""))


def nine(platform: str, channel: str, at: time = time(9)) -> Schedule:
    return Schedule(platform, channel, at, "Europe/Berlin", None, True, "test", NOW)


async def posted_day(core: Core, platform: str, channel: str, day: date, message: str) -> str:
    """Claim and post `day` in the channel (drawing from its bag); the quote posted."""
    claim = await core.daily.store.claim(platform, channel, day, None, NOW, None)
    assert claim is not None
    await core.daily.store.record_posted(claim, message, NOW)
    return claim.quote_id


async def count(core: Core, channel: str, n: int, words: int = 1) -> None:
    """A command's count and an empty search's words in the Slack channel, on DAY."""
    counts = {CountKey(DAY, "slack", WORKSPACE, channel, "command", "random", "quote"): n}
    searches = {WordsKey(DAY, "slack", WORKSPACE, channel, "nothing here"): words}
    assert core.stats.store is not None
    await core.stats.store.add(counts, searches, DAY - timedelta(30))


async def slack_channels(core: Core) -> dict[str, int]:
    """Each Slack channel's command count since DAY."""
    assert core.stats.store is not None
    rows = await core.stats.store.by_channel(DAY, Scope("slack", WORKSPACE))
    return {r.channel: r.total for r in rows if r.metric == "command"}


async def empty_words(core: Core) -> list[tuple[str, int]]:
    assert core.stats.store is not None
    return await core.stats.store.empty_searches(DAY, Scope("slack", WORKSPACE, KEYED), 10)


async def test_every_bare_slack_row_is_keyed_and_discord_is_left_alone(many_core: Core) -> None:
    core, store = many_core, many_core.daily.store
    await store.save_schedule(nine("slack", BARE))
    await store.save_schedule(nine("discord", DISCORD_CHANNEL))
    first = await posted_day(core, "slack", BARE, DAY, "1.0")
    second = await posted_day(core, "slack", BARE, DAY + timedelta(1), "2.0")
    await posted_day(core, "discord", DISCORD_CHANNEL, DAY, "99")
    assert await core.previews.claim("slack:T0AAA:1", "slack", BARE, NOW)
    assert await core.previews.claim("discord:1", "discord", DISCORD_CHANNEL, NOW)
    await count(core, BARE, 2)

    adopted = await adopt_workspace(core, WORKSPACE)

    assert adopted == Adopted(WORKSPACE, schedules=1, days=2, bags=1, previews=1, stats_rows=2)
    assert adopted.summary() == "1 schedule, 2 days, 1 bag, 1 preview, 2 stats rows"
    assert core.daily.changed.is_set()  # a running scheduler re-reads the schedules
    assert [(s.platform, s.channel) for s in await store.schedules()] == [
        ("discord", DISCORD_CHANNEL),
        ("slack", KEYED),
    ]
    records = await store.records_since(DAY)
    assert set(records) == {
        ("slack", KEYED, DAY),
        ("slack", KEYED, DAY + timedelta(1)),
        ("discord", DISCORD_CHANNEL, DAY),
    }
    assert records[("slack", KEYED, DAY)].message_id == "1.0"
    # The bag came along: the next day's quote is none of the round's two so far.
    third = await posted_day(core, "slack", KEYED, DAY + timedelta(2), "3.0")
    assert third not in {first, second}
    # A preview claimed under the bare name is still taken (a replayed click posts nothing).
    assert not await core.previews.claim("slack:T0AAA:1", "slack", KEYED, NOW)
    assert await slack_channels(core) == {KEYED: 2}
    assert await empty_words(core) == [("nothing here", 1)]


async def test_a_row_already_keyed_wins_and_stats_are_summed(many_core: Core) -> None:
    core, store = many_core, many_core.daily.store
    await store.save_schedule(nine("slack", BARE))
    await store.save_schedule(nine("slack", KEYED, time(7, 30)))  # turned on since, many mode
    await posted_day(core, "slack", BARE, DAY, "bare")
    await posted_day(core, "slack", BARE, DAY + timedelta(1), "bare-only")
    await posted_day(core, "slack", KEYED, DAY, "keyed")
    await count(core, BARE, 2, words=1)
    await count(core, KEYED, 3, words=4)

    adopted = await adopt_workspace(core, WORKSPACE)

    assert (adopted.schedules, adopted.days, adopted.stats_rows) == (1, 2, 2)
    (schedule,) = [s for s in await store.schedules() if s.platform == "slack"]
    assert (schedule.channel, schedule.local_time) == (KEYED, time(7, 30))
    records = await store.records_since(DAY)
    assert {k: r.message_id for k, r in records.items()} == {
        ("slack", KEYED, DAY): "keyed",
        ("slack", KEYED, DAY + timedelta(1)): "bare-only",
    }
    assert await slack_channels(core) == {KEYED: 5}
    assert await empty_words(core) == [("nothing here", 5)]


async def test_adopting_twice_moves_nothing_the_second_time(many_core: Core) -> None:
    await many_core.daily.store.save_schedule(nine("slack", BARE))
    await posted_day(many_core, "slack", BARE, DAY, "1.0")
    await many_core.previews.claim("slack:T0AAA:1", "slack", BARE, NOW)
    await count(many_core, BARE, 1)

    assert (await adopt_workspace(many_core, WORKSPACE)).moved == 6
    many_core.daily.changed.clear()
    again = await adopt_workspace(many_core, WORKSPACE)

    assert again == Adopted(WORKSPACE) and again.moved == 0
    assert not many_core.daily.changed.is_set()
    assert [s.channel for s in await many_core.daily.store.schedules()] == [KEYED]


@pytest.mark.parametrize("prefix", BAD_PREFIXES)
async def test_a_bad_prefix_is_refused_by_every_store(many_core: Core, prefix: str) -> None:
    await many_core.daily.store.save_schedule(nine("slack", BARE))
    stats = many_core.stats.store
    assert stats is not None
    for rekey in (
        many_core.daily.store.key_bare_channels,
        many_core.previews.key_bare_channels,
        stats.key_bare_channels,
        MemoryPreviewStore().key_bare_channels,
    ):
        with pytest.raises(ValueError, match="not a workspace prefix"):
            await rekey("slack", prefix)
    for workspace in BAD_WORKSPACES:
        with pytest.raises(ConfigError, match="not a Slack workspace id"):
            await adopt_workspace(many_core, workspace)
    assert [s.channel for s in await many_core.daily.store.schedules()] == [BARE]


async def test_a_refusal_repeats_a_short_id_but_never_a_pasted_token(many_core: Core) -> None:
    with pytest.raises(ConfigError) as refused:
        await adopt_workspace(many_core, "C0BARE")
    assert str(refused.value).startswith("'C0BARE' is not a Slack workspace id")
    for pasted in (PASTED_TOKEN, PASTED_TOKEN + "/", "x" * 60):
        with pytest.raises(ConfigError) as refused:
            await adopt_workspace(many_core, pasted)
        assert str(refused.value).startswith("the value given is not a Slack workspace id")
        with pytest.raises(ValueError) as refused_prefix:
            await many_core.previews.key_bare_channels("slack", pasted)
        assert pasted not in str(refused_prefix.value)
        assert "the value given" in str(refused_prefix.value)


async def test_an_organisation_id_is_a_workspace_too(many_core: Core) -> None:
    await many_core.daily.store.save_schedule(nine("slack", BARE))
    assert (await adopt_workspace(many_core, "E0ORG")).schedules == 1
    assert [s.channel for s in await many_core.daily.store.schedules()] == [f"E0ORG/{BARE}"]


async def test_a_day_caught_sending_moves_and_its_outcome_lands_on_the_keyed_day(
    many_core: Core,
) -> None:
    store = many_core.daily.store
    await store.save_schedule(nine("slack", BARE))
    claim = await store.claim("slack", BARE, DAY, None, NOW, None)
    assert claim is not None and await store.start_sending(claim)

    await adopt_workspace(many_core, WORKSPACE)
    await store.record_posted(claim, "1.0", NOW)  # the send that was under way

    (record,) = (await store.records_since(DAY)).values()
    assert (record.channel, record.status, record.message_id) == (KEYED, PostStatus.POSTED, "1.0")


async def test_a_day_left_sending_by_a_gone_scheduler_is_recovered_as_unknown_when_keyed(
    many_core: Core,
) -> None:
    store = many_core.daily.store
    await store.save_schedule(nine("slack", BARE))
    claim = await store.claim("slack", BARE, DAY, None, NOW, "a-lease-nobody-holds")
    assert claim is not None and await store.start_sending(claim)

    await adopt_workspace(many_core, WORKSPACE)
    retried, unknown = await store.recover_claims(NOW + timedelta(minutes=5))

    assert retried == [] and [(r.channel, r.local_date) for r in unknown] == [(KEYED, DAY)]
    (record,) = (await store.records_since(DAY)).values()
    assert (record.channel, record.status) == (KEYED, PostStatus.UNKNOWN)


async def test_memory_previews_are_keyed_too() -> None:
    previews = MemoryPreviewStore()
    await previews.claim("slack:1", "slack", BARE, NOW)
    await previews.claim("slack:2", "slack", "T0OTHER/C0X", NOW)
    await previews.claim("discord:1", "discord", DISCORD_CHANNEL, NOW)

    assert await previews.key_bare_channels("slack", "T0AAA/") == 1
    assert await previews.key_bare_channels("slack", "T0AAA/") == 0
    assert previews.channels == {
        "slack:1": ("slack", KEYED),
        "slack:2": ("slack", "T0OTHER/C0X"),
        "discord:1": ("discord", DISCORD_CHANNEL),
    }


async def test_the_token_workspace_is_remembered_and_replaced(many_core: Core) -> None:
    installs = many_core.installs
    assert installs is not None
    assert await installs.token_workspace("slack") is None
    await installs.remember_token_workspace("slack", "T0OLD", NOW)
    await installs.remember_token_workspace("slack", WORKSPACE, NOW + timedelta(1))
    assert await installs.token_workspace("slack") == WORKSPACE
    assert await installs.token_workspace("discord") is None


async def test_a_start_adopts_into_the_recorded_workspace_and_says_so_once(
    many_core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    assert many_core.installs is not None
    await many_core.installs.remember_token_workspace("slack", WORKSPACE, NOW)
    await many_core.daily.store.save_schedule(nine("slack", BARE))
    await posted_day(many_core, "slack", BARE, DAY, "1.0")

    with caplog.at_level(logging.INFO, logger="bot.adapters.slack.adopt"):
        adopted = await adopt_recorded(many_core)
        again = await adopt_recorded(many_core)

    assert adopted == Adopted(WORKSPACE, schedules=1, days=1, bags=1)
    assert again == Adopted(WORKSPACE)
    (line,) = [r for r in caplog.records if r.name == "bot.adapters.slack.adopt"]
    assert line.levelno == logging.INFO
    assert line.getMessage() == (
        "Slack channels of the single-token days keyed by workspace T0AAA: "
        "1 schedule, 1 day, 1 bag, 0 previews, 0 stats rows"
    )


async def test_a_start_with_no_recorded_workspace_warns_once_and_moves_nothing(
    many_core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    store = many_core.daily.store
    for channel in (BARE, "C0OTHER", "T0BBB/C0KEYED"):
        await store.save_schedule(nine("slack", channel))
    await store.save_schedule(nine("discord", DISCORD_CHANNEL))

    with caplog.at_level(logging.INFO, logger="bot.adapters.slack.adopt"):
        assert await adopt_recorded(many_core) is None

    (line,) = [r for r in caplog.records if r.name == "bot.adapters.slack.adopt"]
    assert line.levelno == logging.WARNING
    text = line.getMessage()
    assert "\n" not in text and text.startswith("2 Slack daily schedules")
    assert "run `lambert slack adopt` once with the old SLACK_BOT_TOKEN set" in text
    assert "--workspace T..." in text
    assert {s.channel for s in await store.schedules()} == {
        BARE,
        "C0OTHER",
        "T0BBB/C0KEYED",
        DISCORD_CHANNEL,
    }


# -- auth.test -------------------------------------------------------------------------------


async def test_the_token_workspace_is_the_team_or_an_org_wide_installs_organisation(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.tokens["xoxb-grid-a"] = "T0GRIDA#9"  # a workspace of a Grid organisation
    fake_slack.tokens["xoxb-org"] = "E0GRID#9"  # installed for the whole organisation

    assert await token_workspace_id(fake_slack.client()) == TEAM_ID
    assert await token_workspace_id(fake_slack.client("xoxb-grid-a")) == "T0GRIDA"
    assert await token_workspace_id(fake_slack.client("xoxb-org")) == "E0GRID"


async def test_a_rejected_token_is_a_config_error_that_names_the_variable_not_the_token(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.revoked.add(BOT_TOKEN)
    with pytest.raises(ConfigError) as refused:
        await token_workspace_id(fake_slack.client())
    message = str(refused.value)
    assert "SLACK_BOT_TOKEN" in message and "--workspace" in message
    assert BOT_TOKEN not in message and "\n" not in message


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, db_path: Path, backend_url: str | None
) -> dict[str, str]:
    """The environment `lambert` reads: this test's database (and PostgreSQL's URL)."""
    env = {"LAMBERT_DB": str(db_path), "LAMBERT_CORPUS": str(CORPUS)}
    if backend_url is not None:
        env["LAMBERT_DATABASE_URL"] = backend_url
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def aimed_at(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> FakeSlack:
    """lambert's Slack web client calls the fake (its default base_url, bound at import)."""
    monkeypatch.setitem(slack_poster.web_client.__kwdefaults__, "base_url", fake_slack.api_url)
    return fake_slack


async def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # main() runs its own asyncio.run, so it gets a thread; fakes keep serving on this loop.
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def seed_single_token_days(settings: Settings) -> None:
    async with open_core(settings) as core:
        await core.daily.store.save_schedule(nine("slack", BARE))
        await posted_day(core, "slack", BARE, DAY, "1.0")
        await core.daily.store.save_schedule(nine("discord", DISCORD_CHANNEL))


async def schedule_channels(settings: Settings) -> list[str]:
    async with open_core(settings) as core:
        return [s.channel for s in await core.daily.store.schedules()]


async def recorded(settings: Settings) -> str | None:
    async with open_core(settings) as core:
        assert core.installs is not None
        return await core.installs.token_workspace("slack")


async def test_cli_adopts_into_the_workspace_given_and_records_it(
    shared_settings: Settings, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_single_token_days(shared_settings)

    code, out, err = await run_cli(capsys, "slack", "adopt", "--workspace", WORKSPACE)

    assert code == 0, err
    assert out == "Keyed by workspace T0AAA: 1 schedule, 1 day, 1 bag, 0 previews, 0 stats rows.\n"
    assert (
        "lambert: warning: the app is not installed in workspace T0AAA yet; its daily posts "
        "wait until it is installed through /slack/install"
    ) in err.splitlines()
    assert await schedule_channels(shared_settings) == [DISCORD_CHANNEL, KEYED]
    assert await recorded(shared_settings) == WORKSPACE

    code, out, err = await run_cli(capsys, "slack", "adopt", "--json")  # the recorded one
    assert code == 0, err
    assert json.loads(out) == {
        "workspace": WORKSPACE,
        "schedules": 0,
        "days": 0,
        "bags": 0,
        "previews": 0,
        "stats_rows": 0,
        "moved": 0,
    }


@pytest.mark.parametrize(
    "enterprise, team, workspace", [("", WORKSPACE, WORKSPACE), ("E0ORG", "", "E0ORG")]
)
async def test_cli_does_not_warn_when_the_workspace_is_installed(
    shared_settings: Settings,
    cli_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    enterprise: str,
    team: str,
    workspace: str,
) -> None:
    await seed_single_token_days(shared_settings)
    async with open_core(shared_settings) as core:
        assert core.installs is not None
        await core.installs.save(
            Install(
                "slack", enterprise, team, "", "A0", "xoxb-x", "B0", "U0", "chat:write", "U1", NOW
            )
        )

    code, out, err = await run_cli(capsys, "slack", "adopt", "--workspace", workspace)

    assert code == 0, err
    assert "lambert: warning" not in err
    assert out.startswith(f"Keyed by workspace {workspace}: 1 schedule")


async def test_cli_asks_auth_test_with_the_old_token(
    shared_settings: Settings,
    cli_env: dict[str, str],
    aimed_at: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seed_single_token_days(shared_settings)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)

    code, out, err = await run_cli(capsys, "slack", "adopt")

    assert code == 0, err
    assert out == (
        f"Keyed by workspace {TEAM_ID}: 1 schedule, 1 day, 1 bag, 0 previews, 0 stats rows; "
        "now unset SLACK_BOT_TOKEN to serve many workspaces.\n"
    )
    assert [c.bearer for c in aimed_at.calls("auth.test")] == [f"{TEAM_ID}#0"]
    assert await schedule_channels(shared_settings) == [DISCORD_CHANNEL, f"{TEAM_ID}/{BARE}"]
    assert await recorded(shared_settings) == TEAM_ID


@pytest.mark.parametrize(
    "case", ["no token, nothing recorded", "token rejected", "bad id", "channel id", "pasted token"]
)
async def test_cli_refusals_are_one_line_exit_2_and_change_nothing(
    shared_settings: Settings,
    cli_env: dict[str, str],
    aimed_at: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    await seed_single_token_days(shared_settings)
    argv = ["slack", "adopt"]
    if case == "token rejected":
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        aimed_at.revoked.add(BOT_TOKEN)
    elif case == "bad id":
        argv += ["--workspace", "t0aaa"]
    elif case == "channel id":
        argv += ["--workspace", BARE]
    elif case == "pasted token":
        argv += ["--workspace", PASTED_TOKEN]

    code, out, err = await run_cli(capsys, *argv)

    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("lambert: ")
    assert BOT_TOKEN not in err and PASTED_TOKEN not in err
    expected = {
        "no token, nothing recorded": NO_WORKSPACE,
        "token rejected": "Slack rejected SLACK_BOT_TOKEN (token_revoked)",
        "bad id": "'t0aaa' is not a Slack workspace id",
        "channel id": "'C0BARE' is not a Slack workspace id",
        "pasted token": "lambert: the value given is not a Slack workspace id",
    }[case]
    assert expected in err
    assert await schedule_channels(shared_settings) == [DISCORD_CHANNEL, BARE]
    assert await recorded(shared_settings) is None


async def test_daily_tick_in_many_workspaces_posts_a_single_token_schedule_with_its_install(
    shared_settings: Settings,
    cli_env: dict[str, str],
    aimed_at: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with open_core(shared_settings) as core:
        # Many workspaces: the workspace installs the app through OAuth (serving, which would
        # adopt at its own start, stops before the single-token state below exists).
        many = oauth_settings(shared_settings)
        async with running_platform(aimed_at, core, many, Sleeps()) as platform:
            await install(aimed_at, platform, TEAM_ID)
        # The single-token days: a schedule by bare channel id, and the token's workspace,
        # which the single-token adapter records after auth.test.
        await core.daily.store.save_schedule(
            Schedule("slack", CHANNEL_ID, time(9), "Europe/Berlin", None, True, "test", NOW)
        )
        assert core.installs is not None
        await core.installs.remember_token_workspace("slack", TEAM_ID, NOW)
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)

    at = "2025-03-11T08:00:00Z"  # 09:00 in Berlin, the day after the schedule was set
    code, out, err = await run_cli(capsys, "daily", "tick", "--at", at, "--force", "--json")

    assert code == 0, err
    report = json.loads(out)
    assert [(p["platform"], p["channel"]) for p in report["posted"]] == [
        ("slack", f"{TEAM_ID}/{CHANNEL_ID}")
    ]
    (sent,) = aimed_at.calls("chat.postMessage")
    assert sent.args["channel"] == CHANNEL_ID
    assert sent.bearer == f"{TEAM_ID}#1"  # the OAuth install's token, not the old one (#0)
    assert await schedule_channels(shared_settings) == [f"{TEAM_ID}/{CHANNEL_ID}"]
