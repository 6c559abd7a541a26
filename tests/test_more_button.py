"""A More button under a result list shows the next page, on Discord and on Slack, until the
results end; every quote is shown once."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord.views import NOT_YOURS
from bot.adapters.slack.blocks import MORE
from bot.config import Settings
from bot.runtime import Core
from tests.fakes.discord_platform import Callback, FakeDiscord
from tests.fakes.slack_platform import FakeSlack
from tests.support.slack import click, running_platform, slack_settings, slash

WORD = "rlhf"


def more_button(message: Callback) -> dict[str, Any] | None:
    buttons = [b for row in message.components for b in row["components"]]
    return next((b for b in buttons if b["label"] == "More"), None)


def listed_ids(embed: dict[str, Any]) -> list[str]:
    return [f["name"].rpartition("id: ")[2] for f in embed["fields"]]


async def test_discord_more_pages_through_every_result_once(
    core: Core, discord_bot: FakeDiscord
) -> None:
    fake = discord_bot
    total = (await core.quotes.search(WORD, limit=1)).total
    assert total > 10  # three pages at least
    await fake.send_interaction(fake.slash_command("lambert", {"query": f"search {WORD}"}))
    page = await fake.next_callback()
    seen = listed_ids(page.embeds[0])
    message: Callback = page
    while (button := more_button(message)) is not None and not button.get("disabled"):
        await fake.send_interaction(fake.component_click(button["custom_id"], message))
        message = await fake.next_callback()
        assert message.type == 7  # the list is replaced in place, still private
        seen += listed_ids(message.embeds[0])
    assert len(seen) == len(set(seen)) == total


async def test_discord_more_from_someone_else_is_refused_privately(
    core: Core, discord_bot: FakeDiscord
) -> None:
    fake = discord_bot
    await fake.send_interaction(fake.slash_command("lambert", {"query": f"search {WORD}"}))
    page = await fake.next_callback()
    button = more_button(page)
    assert button is not None
    await fake.send_interaction(fake.component_click(button["custom_id"], page, user=fake.admin))
    refusal = await fake.next_callback()
    assert (refusal.type, refusal.ephemeral, refusal.content) == (4, True, NOT_YOURS)
    # The asker's own More still turns the page.
    await fake.send_interaction(fake.component_click(button["custom_id"], page))
    turned = await fake.next_callback()
    assert turned.type == 7
    assert listed_ids(turned.embeds[0]) != listed_ids(page.embeds[0])


async def test_slack_more_pages_through_every_result_once(
    core: Core, fake_slack: FakeSlack, settings: Settings
) -> None:
    total = (await core.quotes.search(WORD, limit=1)).total
    async with running_platform(fake_slack, core, slack_settings(settings)) as platform:
        listed = (await slash(fake_slack, platform, f"search {WORD}")).body
        pages = [listed]
        while any(b["type"] == "actions" for b in listed["blocks"]):
            clicked = await click(fake_slack, platform, listed, MORE)
            listed = (await fake_slack.next_response(clicked)).body
            assert listed["replace_original"] is True
            pages.append(listed)
    seen = [
        block["text"]["text"].split("`")[1]
        for page in pages
        for block in page["blocks"][1:]
        if block["type"] == "section"
    ]
    assert len(seen) == len(set(seen)) == total
    assert len(pages) == -(-total // 5)
