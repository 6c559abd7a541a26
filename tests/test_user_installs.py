"""`/lambert` added to a member's own account: in DMs, group DMs and servers without the bot,
the preview and Post answer through the interaction, never as a channel message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import NOT_PUBLIC, make_client
from bot.chat.replies import ANOTHER_LABEL
from bot.chat.share import MAYBE_POSTED, POSTED
from bot.config import Secret, Settings
from bot.runtime import Core
from tests.fakes.discord_platform import (
    BOT_DM,
    EPHEMERAL,
    GUILD,
    PRIVATE_CHANNEL,
    Callback,
    FakeDiscord,
    Place,
)
from tests.support.discord import button, post_button

NO_PINGS = {"parse": []}


@pytest.fixture
async def fake(settings: Settings, core: Core, run_client: Any) -> AsyncIterator[FakeDiscord]:
    settings = Settings(**{**vars(settings), "discord_token": Secret("fake-token")})
    platform = DiscordPlatform(settings, core, client=make_client(guild_ready_timeout=0.05))
    async with run_client(platform.client) as fake:
        yield fake


def footer_id(embed: dict[str, Any]) -> str:
    return embed["footer"]["text"].rpartition("id: ")[2]


async def preview_in(fake: FakeDiscord, place: Place, query: str = "dpo") -> Callback:
    command = fake.slash_command("lambert", {"query": query}, channel_id=place.channel_id)
    assert command["authorizing_integration_owners"] == {"1": str(fake.member.id)}
    assert command["context"] == place.context
    await fake.send_interaction(command)
    return await fake.next_callback()


def channel_posts(fake: FakeDiscord) -> list[str]:
    """Every Create Message the bot tried, answered or refused."""
    return [r.path for r in fake.requests if r.method == "POST" and r.path.startswith("/channels")]


@pytest.mark.parametrize(
    "context", [BOT_DM, PRIVATE_CHANNEL, GUILD], ids=["bot-dm", "group-dm", "server-without-bot"]
)
async def test_a_user_install_previews_then_posts_through_the_interaction(
    fake: FakeDiscord, context: int
) -> None:
    place = fake.user_install_place(context)
    preview = await preview_in(fake, place)
    assert (preview.type, preview.ephemeral) == (4, True)
    assert preview.embeds and preview.allowed_mentions == NO_PINGS

    # Another works there too: the clicked preview is updated in place.
    await fake.send_interaction(fake.component_click(button(preview, ANOTHER_LABEL), preview))
    other = await fake.next_callback()
    assert other.type == 7 and footer_id(other.embeds[0]) != footer_id(preview.embeds[0])
    preview = other

    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    greyed = await fake.next_callback()
    assert greyed.type == 7 and all(b["disabled"] for b in greyed.components[0]["components"])
    shared = await fake.next_webhook_message()
    assert (shared.kind, shared.channel_id, shared.ephemeral) == (
        "followup",
        place.channel_id,
        False,
    )
    assert shared.message is not None and not shared.message["flags"] & EPHEMERAL  # public
    assert footer_id(shared.embeds[0]) == footer_id(preview.embeds[0])
    assert shared.content == "Shared by Reader" and shared.allowed_mentions == NO_PINGS
    note = await fake.next_webhook_message()
    assert (note.kind, note.target, note.content, note.components) == (
        "edit",
        "@original",
        POSTED,
        [],
    )
    await fake.settle()
    assert fake.channel_messages == [] and channel_posts(fake) == []


async def test_where_the_member_may_not_use_external_apps_post_says_so_and_sends_nothing(
    fake: FakeDiscord,
) -> None:
    place = fake.user_install_place(GUILD, external_apps=False)
    preview = await preview_in(fake, place)
    assert preview.ephemeral
    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    assert (await fake.next_callback()).type == 7
    note = await fake.next_webhook_message()
    assert (note.kind, note.content, note.components, note.embeds) == ("edit", NOT_PUBLIC, [], [])
    await fake.settle()
    assert [m.kind for m in fake.webhook_messages] == ["edit"]  # no followup at all
    assert channel_posts(fake) == []


async def test_an_answer_discord_makes_ephemeral_is_not_taken_for_a_post(
    fake: FakeDiscord,
) -> None:
    """Discord returns the followup with the EPHEMERAL flag though a public one was asked for:
    the member is told, in one line, that it was not posted for everyone."""
    place = fake.user_install_place(GUILD, forced_ephemeral=True)
    preview = await preview_in(fake, place)
    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    assert (await fake.next_callback()).type == 7
    followup = await fake.next_webhook_message()
    assert (followup.kind, followup.ephemeral) == ("followup", False)  # asked for public...
    assert followup.message is not None and followup.message["flags"] & EPHEMERAL  # ...made private
    note = await fake.next_webhook_message()
    assert (note.target, note.content) == ("@original", NOT_PUBLIC)
    await fake.settle()
    assert channel_posts(fake) == []


async def test_in_a_server_that_added_the_bot_post_is_still_a_channel_message(
    fake: FakeDiscord,
) -> None:
    command = fake.slash_command("lambert", {"query": "dpo"})
    assert command["authorizing_integration_owners"] == {"0": str(fake.guild_id)}
    await fake.send_interaction(command)
    preview = await fake.next_callback()
    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    posted = await fake.next_channel_message()
    assert posted.channel_id == fake.channel_id
    assert (await fake.next_webhook_message()).content == POSTED
    assert not any(m.kind == "followup" for m in fake.webhook_messages)


async def test_a_server_that_added_only_the_commands_gets_a_public_followup(
    fake: FakeDiscord,
) -> None:
    """Installed by the server (guild key "0") without the bot user: lambert is no external
    app there, so Discord keeps answers public whatever the member's Use External Apps."""
    place = fake.user_install_place(GUILD, external_apps=False, server_install=True)
    command = fake.slash_command("lambert", {"query": "dpo"}, channel_id=place.channel_id)
    assert command["authorizing_integration_owners"] == {"0": str(place.guild_id)}
    await fake.send_interaction(command)
    preview = await fake.next_callback()
    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    assert (await fake.next_callback()).type == 7
    shared = await fake.next_webhook_message()
    assert shared.kind == "followup" and not shared.message["flags"] & EPHEMERAL
    assert (await fake.next_webhook_message()).content == POSTED
    await fake.settle()
    assert channel_posts(fake) == []  # the bot is not there to post by itself


async def test_a_followup_whose_answer_was_lost_is_not_called_posted_or_released(
    fake: FakeDiscord, core: Core
) -> None:
    """A followup has no nonce: once its answer is lost it may be in the channel, so the
    preview says so instead of "Posted", and its claim stays (nothing can post it again)."""
    place = fake.user_install_place(BOT_DM)
    preview = await preview_in(fake, place)
    fake.lose_answers(place.channel_id, "drop")

    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    await fake.next_callback()  # the buttons greyed out
    shared = await fake.next_webhook_message()
    assert shared.kind == "followup"  # stored by Discord; its answer is lost
    note = await fake.next_webhook_message()
    assert (note.kind, note.content, note.components) == ("edit", MAYBE_POSTED, [])
    await fake.settle()

    assert [m.kind for m in fake.webhook_messages].count("followup") == 1
    async with core.quotes.conn.execute("SELECT status FROM preview_posts") as rows:
        assert [tuple(r) for r in await rows.fetchall()] == [("posting",)]
