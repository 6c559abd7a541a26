"""From one Slack workspace to many: the channels named bare in single-token days are keyed by
that token's workspace (schedules, history, bags, preview claims, stats), by
`lambert slack adopt` or at a many-workspace start from the workspace recorded for the token.

Every store test runs on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.adapters.slack import poster as slack_poster
from bot.adapters.slack.adopt import (
    NO_WORKSPACE,
    adopt_recorded,
    token_workspace_id,
)
from bot.cli import main
from bot.config import ConfigError, Secret, Settings
from bot.daily.schedules import Schedule
from bot.runtime import Core, open_core
from bot.stats.store import CountKey, Scope, WordsKey
from tests.fakes.slack_platform import (
    BOT_TOKEN,
    TEAM_ID,
    FakeSlack,
)
from tests.support.paths import CORPUS

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


async def test_the_token_workspace_is_remembered_and_replaced(many_core: Core) -> None:
    installs = many_core.installs
    assert installs is not None
    assert await installs.token_workspace("slack") is None
    await installs.remember_token_workspace("slack", "T0OLD", NOW)
    await installs.remember_token_workspace("slack", WORKSPACE, NOW + timedelta(1))
    assert await installs.token_workspace("slack") == WORKSPACE
    assert await installs.token_workspace("discord") is None


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
