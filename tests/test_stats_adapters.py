"""Stats through the real adapters: a slash command counts in its workspace or server, and a
preview's Post counts as a quote posted (the loopback fakes of docs/TESTING.md)."""

from __future__ import annotations

from datetime import date

from bot.adapters.slack.blocks import SHUFFLE
from bot.config import Settings
from bot.quotes.service import QuoteService
from bot.runtime import Core
from bot.stats.store import COMMAND, POSTED, Scope
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import (
    CHANNEL_ID,
    TEAM_ID,
    FakeSlack,
    interactive_form,
)
from tests.support.discord import post_button
from tests.support.slack import (
    click,
    events_url,
    post_click,
    post_signed,
    running_platform,
    slack_settings,
    slash,
)


async def counted(core: Core, scope: Scope) -> dict[tuple[str, str, str], int]:
    await core.stats.flush()
    assert core.stats.store is not None
    found = await core.stats.store.tallies(date(2000, 1, 1), scope)
    return {(t.metric, t.name, t.detail): t.total for t in found}


async def test_slack_counts_in_the_commands_team(
    core: Core, fake_slack: FakeSlack, service: QuoteService, settings: Settings
) -> None:
    async with running_platform(fake_slack, core, slack_settings(settings)) as platform:
        preview = (await slash(fake_slack, platform, "careers")).body
        await click(fake_slack, platform, preview, SHUFFLE)
        await fake_slack.next_response()
        preview = (await slash(fake_slack, platform, "careers")).body
        body = interactive_form(post_click(fake_slack, preview, "1700000100.000900"))
        assert await post_signed(events_url(platform), body) == 200
        await fake_slack.next_response()
    team = await counted(core, Scope("slack", TEAM_ID))
    assert team[(COMMAND, "theme", "quote")] == 2
    assert team[(COMMAND, "another", "quote")] == 1
    assert team[(POSTED, "preview", "")] == 1
    assert await counted(core, Scope("slack", TEAM_ID, f"{TEAM_ID}/{CHANNEL_ID}")) == team
    assert await counted(core, Scope("slack", "T-OTHER")) == {}


async def test_discord_counts_in_the_interactions_guild(
    core: Core, discord_bot: FakeDiscord
) -> None:
    fake = discord_bot
    await fake.send_interaction(fake.slash_command("lambert", {"query": "careers"}))
    preview = await fake.next_callback()
    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    await fake.settle()
    assert len(fake.channel_messages) == 1
    guild = await counted(core, Scope("discord", str(fake.guild_id)))
    assert guild[(COMMAND, "theme", "quote")] == 1
    assert guild[(POSTED, "preview", "")] == 1
    assert await counted(core, Scope("discord", "1")) == {}
