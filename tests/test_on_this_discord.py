""" "Lambert on this" on Discord: the message command through the real discord.py client and
the loopback fake. Preview, Another down the ranking, Post as a silent reply, exactly once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.client import MENU_NAME, DiscordPlatform, sync_commands
from bot.adapters.discord.poster import make_client
from bot.chat import on_this
from bot.chat.replies import ANOTHER_LABEL
from bot.chat.share import ALREADY_POSTED, MAYBE_POSTED, POSTED
from bot.config import Secret, Settings
from bot.runtime import Core
from tests.fakes.discord_platform import GUILD, Callback, FakeDiscord
from tests.support.discord import button, post_button

# "wobblegong" is in no quote: it shows whether the message's own words leaked anywhere.
MESSAGE = "the benchmark numbers look great but users say it got dumber, wobblegong"


@pytest.fixture
async def discord_bot(
    settings: Settings, core: Core, fake_discord: FakeDiscord
) -> AsyncIterator[FakeDiscord]:
    """lambert's DiscordPlatform on the fake, its matcher built first (the corpus's vectors
    take seconds on a busy machine), answering without deferring (deferring is the same for
    every command and tested elsewhere)."""
    await on_this.matcher_for(core.quotes)  # the corpus's vectors, before any interaction
    settings = replace(settings, discord_token=Secret("fake-token"))
    platform = DiscordPlatform(settings, core, client=make_client(guild_ready_timeout=0.05))
    platform.responder.defer_after = 30.0
    async with fake_discord.run_client(platform.client) as fake:
        yield fake


def footer_id(preview: Callback) -> str:
    return str(preview.embeds[0]["footer"]["text"].rpartition("id: ")[2])


async def ranked(core: Core, text: str) -> list[str]:
    """What the matcher ranks first for `text`: the preview must follow it."""
    matcher = await on_this.matcher_for(core.quotes)
    return [q.id for q in await matcher.best(text, on_this.DEPTH)]


async def right_click(fake: FakeDiscord, text: str) -> tuple[dict[str, Any], Callback]:
    message = fake.member_message(text)
    await fake.send_interaction(fake.message_command(MENU_NAME, message))
    return message, await fake.next_callback()


async def test_the_preview_shows_the_best_fit_and_another_the_next(
    discord_bot: FakeDiscord, core: Core
) -> None:
    fits = await ranked(core, MESSAGE)
    _message, preview = await right_click(discord_bot, MESSAGE)
    assert (preview.type, preview.ephemeral) == (4, True)
    assert footer_id(preview) == fits[0]
    assert preview.allowed_mentions == {"parse": []}

    await discord_bot.send_interaction(
        discord_bot.component_click(button(preview, ANOTHER_LABEL), preview)
    )
    other = await discord_bot.next_callback()
    assert other.type == 7 and footer_id(other) == fits[1]
    await discord_bot.send_interaction(
        discord_bot.component_click(button(other, ANOTHER_LABEL), other)
    )
    assert footer_id(await discord_bot.next_callback()) == fits[2]


async def test_post_replies_under_the_message_once_and_pings_nobody(
    discord_bot: FakeDiscord, core: Core
) -> None:
    message, preview = await right_click(discord_bot, MESSAGE)
    post = post_button(preview)
    await discord_bot.send_interaction(discord_bot.component_click(post, preview))
    await discord_bot.send_interaction(
        discord_bot.component_click(post, preview), settle_first=False
    )
    await discord_bot.settle()

    assert len(discord_bot.channel_messages) == 1
    reply = discord_bot.channel_messages[0]
    assert reply.channel_id == discord_bot.channel_id
    assert str(reply.body["message_reference"]["message_id"]) == message["id"]
    assert str(reply.body["message_reference"]["channel_id"]) == message["channel_id"]
    assert reply.allowed_mentions == {"parse": [], "replied_user": False}
    assert footer_id(preview) in reply.embeds[0]["footer"]["text"]
    second = [c for c in discord_bot.callbacks[1:] if c.type == 4]
    assert [c.content for c in second] in ([ALREADY_POSTED], [MAYBE_POSTED])
    assert [m.content for m in discord_bot.webhook_messages if m.kind == "edit"] == [POSTED]


@pytest.mark.parametrize("text", ["", "   ", "ok", "\U0001f602\U0001f602", "+1 \U0001f44d"])
async def test_a_message_with_nothing_to_match_says_so_in_one_line(
    discord_bot: FakeDiscord, text: str
) -> None:
    _message, answer = await right_click(discord_bot, text)
    assert (answer.type, answer.ephemeral) == (4, True)
    assert [e["title"] for e in answer.embeds] == [on_this.NOTHING]
    assert "description" not in answer.embeds[0] and answer.components == []


async def test_the_message_is_never_logged_or_stored(
    discord_bot: FakeDiscord, core: Core, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _message, preview = await right_click(discord_bot, MESSAGE)
    await discord_bot.send_interaction(discord_bot.component_click(post_button(preview), preview))
    await discord_bot.settle()
    await core.stats.flush()
    # Ours at every level; the libraries' at WARNING and up, where bot/logs.py holds them.
    shown = [r for r in caplog.records if r.name.startswith("bot") or r.levelno >= logging.WARNING]
    leaks = [(r.name, r.levelname) for r in shown if "wobblegong" in r.getMessage()]
    assert leaks == []
    db: Path = settings.db_path
    for path in db.parent.glob(db.name + "*"):
        assert b"wobblegong" not in path.read_bytes(), path.name


async def test_the_menu_is_synced_for_servers_and_user_installs(
    fake_discord: FakeDiscord, settings: Settings
) -> None:
    names = await sync_commands(replace(settings, discord_token=Secret("fake-token")))
    assert f"{MENU_NAME!r} (message menu)" in names
    put = next(r for r in fake_discord.requests if r.method == "PUT")
    menu = next(c for c in put.json if c["name"] == MENU_NAME)
    assert menu["type"] == 3 and menu.get("description", "") == ""  # no options, no description
    assert (menu["integration_types"], menu["contexts"]) == ([0, 1], [0, 1, 2])


async def test_a_user_install_posts_through_the_interaction_without_a_reply(
    discord_bot: FakeDiscord,
) -> None:
    """Where only the member added lambert, the bot cannot post in the channel; the quote goes
    as the interaction's followup, which cannot reply to a message, so it follows it."""
    place = discord_bot.user_install_place(GUILD)
    message = discord_bot.member_message(MESSAGE, channel_id=place.channel_id)
    command = discord_bot.message_command(MENU_NAME, message)
    assert command["authorizing_integration_owners"] == {"1": str(discord_bot.member.id)}
    await discord_bot.send_interaction(command)
    preview = await discord_bot.next_callback()
    assert (preview.type, preview.ephemeral) == (4, True)
    await discord_bot.send_interaction(discord_bot.component_click(post_button(preview), preview))
    shared = await discord_bot.next_webhook_message()
    assert (shared.kind, shared.channel_id, shared.ephemeral) == (
        "followup",
        place.channel_id,
        False,
    )
    assert "message_reference" not in shared.body
    assert discord_bot.channel_messages == []
