"""`/lambert` end to end: the real discord.Client against the loopback fake Discord."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client
from bot.adapters.discord.views import BOOT, CANCELLED, EXPIRED, NOT_YOURS
from bot.chat.replies import ERROR_TEXT
from bot.chat.share import POSTED
from bot.config import Secret, Settings, load_settings
from bot.runtime import Core, open_core
from tests.fakes.discord_platform import Callback, FakeDiscord
from tests.support.hostile import HOSTILE

NO_PINGS = {"parse": []}


def make_platform(settings: Settings, core: Core) -> DiscordPlatform:
    settings = Settings(**{**vars(settings), "discord_token": Secret("fake-token")})
    return DiscordPlatform(settings, core, client=make_client(guild_ready_timeout=0.05))


@pytest.fixture
def platform(settings: Settings, core: Core) -> DiscordPlatform:
    return make_platform(settings, core)


@pytest.fixture
async def fake(platform: DiscordPlatform, run_client: Any) -> AsyncIterator[FakeDiscord]:
    async with run_client(platform.client) as fake:
        yield fake


def custom_id(message: Callback | dict[str, Any], label: str) -> str:
    rows = message.components if isinstance(message, Callback) else message["components"]
    buttons = [b for row in rows for b in row["components"]]
    return next(b["custom_id"] for b in buttons if b["label"] == label)


def shown_id(embed: dict[str, Any]) -> str:
    """The quote id the embed's footer names (`... · id: <id>`)."""
    return embed["footer"]["text"].rpartition("id: ")[2].split(" ")[0]


async def ask(fake: FakeDiscord, query: str | None, **kwargs: Any) -> Callback:
    options = {"query": query} if query is not None else None
    await fake.send_interaction(fake.slash_command("lambert", options, **kwargs))
    return await fake.next_callback()


async def test_dpo_preview_post_another_cancel_and_a_strangers_click(fake, service) -> None:
    preview = await ask(fake, "dpo")
    assert (preview.type, preview.ephemeral) == (4, True)
    assert [b["label"] for b in preview.components[0]["components"]] == [
        "Post",
        "Another",
        "Cancel",
    ]
    first = await service.quote(shown_id(preview.embeds[0]))
    assert first is not None and first.theme == "dpo-vs-ppo"
    assert preview.embeds[0]["title"] == first.topic
    assert preview.allowed_mentions == NO_PINGS

    # A second member's click is refused privately and changes nothing.
    click = fake.component_click(custom_id(preview, "Post"), preview, user=fake.admin)
    await fake.send_interaction(click)
    refusal = await fake.next_callback()
    assert (refusal.type, refusal.ephemeral, refusal.content) == (4, True, NOT_YOURS)

    await fake.send_interaction(fake.component_click(custom_id(preview, "Another"), preview))
    other = await fake.next_callback()
    assert other.type == 7
    second = shown_id(other.embeds[0])
    assert second != first.id
    assert (await service.quote(second)).theme == "dpo-vs-ppo"

    await fake.send_interaction(fake.component_click(custom_id(other, "Post"), other))
    posting = await fake.next_callback()  # greyed out at once: a second click cannot post twice
    assert posting.type == 7
    assert all(b["disabled"] for b in posting.components[0]["components"])
    posted = await fake.next_channel_message()
    assert posted.channel_id == fake.channel_id
    assert shown_id(posted.embeds[0]) == second
    assert (await service.quote(second)).text in posted.embeds[0]["description"]
    assert posted.content == "Shared by Reader"
    assert posted.allowed_mentions == NO_PINGS
    note = await fake.next_webhook_message()
    assert (note.kind, note.target, note.content, note.components) == (
        "edit",
        "@original",
        POSTED,
        [],
    )
    assert fake.channel_messages == [posted]  # the stranger's click posted nothing


async def test_cancel_removes_the_preview(fake) -> None:
    preview = await ask(fake, "rlhf")
    await fake.send_interaction(fake.component_click(custom_id(preview, "Cancel"), preview))
    update = await fake.next_callback()
    assert (update.type, update.content, update.components, update.embeds) == (
        7,
        CANCELLED,
        [],
        [],
    )
    gone = await fake.next_webhook_message()
    assert (gone.kind, gone.target) == ("delete", "@original")
    assert fake.channel_messages == []


def as_if_shown_before_a_restart(preview: Callback) -> dict[str, Any]:
    """The preview's message as Discord still shows it after lambert restarted: the same,
    except that its buttons name the process that showed it, which is gone."""
    assert preview.message is not None
    message: dict[str, Any] = json.loads(json.dumps(preview.message))
    gone = "deadbeef" if BOOT != "deadbeef" else "feedface"  # any other process's id
    for row in message["components"]:
        for button in row["components"]:
            assert f":{BOOT}:" in button["custom_id"]
            button["custom_id"] = button["custom_id"].replace(f":{BOOT}:", f":{gone}:")
    return message


@pytest.mark.parametrize("label", ["Post", "Another", "Cancel"])
async def test_a_click_on_a_preview_from_before_a_restart_says_so(fake, label) -> None:
    old = as_if_shown_before_a_restart(await ask(fake, "dpo"))
    await fake.send_interaction(fake.component_click(custom_id(old, label), old))
    update = await fake.next_callback()
    assert (update.type, update.content, update.components) == (7, EXPIRED, [])
    assert fake.channel_messages == []  # nothing posted on the old preview's behalf


async def test_this_processs_previews_are_not_taken_for_old_ones(fake) -> None:
    preview = await ask(fake, "dpo")
    await fake.send_interaction(fake.component_click(custom_id(preview, "Cancel"), preview))
    assert (await fake.next_callback()).content == CANCELLED
    await fake.settle()
    assert all(c.content != EXPIRED for c in fake.callbacks)


async def test_search_words_then_another_walks_the_ranking(fake) -> None:
    preview = await ask(fake, "research")
    await fake.send_interaction(fake.component_click(custom_id(preview, "Another"), preview))
    following = await fake.next_callback()
    assert shown_id(following.embeds[0]) != shown_id(preview.embeds[0])


async def test_one_match_disables_another(fake, service) -> None:
    quote_id = (await service.random_quote()).id
    preview = await ask(fake, f"id {quote_id}")
    buttons = {b["label"]: b for b in preview.components[0]["components"]}
    assert buttons["Another"].get("disabled") is True
    assert not buttons["Post"].get("disabled")


@pytest.mark.parametrize("query", [None, "help", "themes", "search rlhf", "id no-such-quote"])
async def test_grammar_replies_are_private_embeds(fake, query) -> None:
    reply = await ask(fake, query)
    assert (reply.type, reply.ephemeral) == (4, True)
    assert reply.embeds and reply.embeds[0]["title"]
    if query == "search rlhf":
        assert 1 < len(reply.embeds[0]["fields"]) <= 5


async def test_autocomplete_offers_the_dpo_theme_first(fake) -> None:
    for typed in ("dp", "", "a", "the"):
        await fake.send_interaction(fake.autocomplete("lambert", {"query": typed}))
        callback = await fake.next_callback()
        assert callback.type == 8
        assert 0 < len(callback.choices) <= 25
        assert all(0 < len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in callback.choices)
        if typed == "dp":
            assert callback.choices[0]["name"].startswith("DPO vs. PPO")
            assert callback.choices[0]["value"] == "dpo"


async def test_hostile_text_always_gets_a_polite_private_answer(fake) -> None:
    for text in HOSTILE:
        reply = await ask(fake, text)
        assert (reply.type, reply.ephemeral) == (4, True), text
        assert reply.content != ERROR_TEXT, text
        assert reply.embeds, text


async def test_a_failure_is_a_short_private_message_and_a_log_line(fake, service, caplog) -> None:
    await service.conn.execute("ALTER TABLE quotes RENAME TO quotes_gone")
    with caplog.at_level(logging.ERROR, logger="bot.adapters"):
        reply = await ask(fake, "dpo")
        await fake.send_interaction(fake.autocomplete("lambert", {"query": "reward"}))
        choices = await fake.next_callback()
    assert (reply.content, reply.ephemeral, reply.embeds) == (ERROR_TEXT, True, [])
    assert choices.type == 8 and choices.choices == []  # autocomplete never raises
    assert "/lambert failed" in caplog.text
    assert "Traceback" not in (reply.content or "")


async def test_slow_work_is_deferred_then_the_preview_still_works(platform, run_client) -> None:
    platform.responder.defer_after = 0.0
    async with run_client(platform.client) as fake:
        await fake.send_interaction(fake.slash_command("lambert", {"query": "rlhf"}))
        deferred = await fake.next_callback()
        preview = await fake.next_webhook_message()
        assert (deferred.type, deferred.ephemeral) == (5, True)
        assert (preview.kind, preview.target) == ("edit", "@original")
        click = fake.component_click(custom_id(preview.message, "Another"), preview)
        await fake.send_interaction(click)
        assert (await fake.next_callback()).type == 6  # a button's deferral: an update
        following = await fake.next_webhook_message()
        assert (following.kind, following.target) == ("edit", "@original")
        assert shown_id(following.embeds[0]) != shown_id(preview.embeds[0])


async def test_an_expired_preview_shows_its_buttons_disabled(platform, run_client) -> None:
    platform.responder.preview_timeout = 0.05
    async with run_client(platform.client) as fake:
        await ask(fake, "rlhf")
        expired = await fake.next_webhook_message()
    buttons = [b for row in expired.components for b in row["components"]]
    assert (expired.kind, expired.target) == ("edit", "@original")
    assert len(buttons) == 3 and all(b["disabled"] for b in buttons)


async def test_post_where_the_bot_may_not_post_goes_through_the_interaction(fake) -> None:
    fake.fail_channel(fake.channel_id, 403)
    preview = await ask(fake, "careers")
    post = custom_id(preview, "Post")
    await fake.send_interaction(fake.component_click(post, preview))
    followup = await fake.next_webhook_message()
    assert (followup.kind, followup.ephemeral) == ("followup", False)  # public
    assert shown_id(followup.embeds[0]) == shown_id(preview.embeds[0])
    assert followup.allowed_mentions == NO_PINGS
    assert (await fake.next_webhook_message()).content == POSTED


async def test_a_failed_post_says_so_privately_and_keeps_the_preview_usable(fake) -> None:
    fake.fail_channel(fake.channel_id, 404, times=1)
    preview = await ask(fake, "careers")
    post = custom_id(preview, "Post")
    await fake.send_interaction(fake.component_click(post, preview))
    assert (await fake.next_callback()).type == 7
    rearmed = await fake.next_webhook_message()
    error = await fake.next_webhook_message()
    assert not any(b.get("disabled") for b in rearmed.components[0]["components"])
    assert (error.kind, error.content, error.ephemeral) == ("followup", ERROR_TEXT, True)

    await fake.send_interaction(fake.component_click(post, preview))  # the retry works
    assert (await fake.next_channel_message()).channel_id == fake.channel_id


PINGING_CORPUS = """
[[themes]]
slug = "pings"
title = "Texts that look like mentions"

[[quotes]]
id = "mass-mention"
theme = "pings"
topic = "On mentions"
source = "Test"
kind = "quote"
text = "Hello @everyone and @here and <@&123> and <@42>, read this."

[[quotes]]
id = "summary-mention"
theme = "pings"
topic = "On summaries"
source = "Test"
kind = "paraphrase"
text = "A summary that says @everyone should <@&123> read it."
"""


async def test_mention_syntax_in_a_quote_reaches_the_channel_verbatim_without_pings(
    tmp_path: Path, run_client
) -> None:
    corpus = tmp_path / "pings.toml"
    corpus.write_text(PINGING_CORPUS, encoding="utf-8")
    settings = load_settings({}, db_path=tmp_path / "pings.db", corpus_path=corpus)
    async with open_core(settings) as core:
        platform = make_platform(settings, core)
        async with run_client(platform.client) as fake:
            for quote_id in ("mass-mention", "summary-mention"):
                preview = await ask(fake, f"id {quote_id}")
                click = fake.component_click(custom_id(preview, "Post"), preview)
                await fake.send_interaction(click)
                assert (await fake.next_callback()).type == 7
                posted = await fake.next_channel_message()
                assert (await fake.next_webhook_message()).content == POSTED
                quote = await core.quotes.quote(quote_id)
                assert quote.text in posted.embeds[0]["description"]
                assert posted.allowed_mentions == NO_PINGS
                assert preview.allowed_mentions == NO_PINGS
            await platform.poster().post_daily(str(fake.channel_id), quote, date(2025, 1, 1))
            daily = await fake.next_channel_message()
    assert quote.text == daily.embeds[0]["description"]  # a summary: no quotation marks
    assert daily.allowed_mentions == NO_PINGS
