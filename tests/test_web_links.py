"""With LAMBERT_PUBLIC_URL, chat links to the web site: Discord's shared and daily posts carry
a link button to the quote's page, Slack's a context line, and Slack unfurls links to a page
with the blocks of a shared quote. Without it, nothing links anywhere."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client, open_discord_poster
from bot.adapters.slack.blocks import card_url, daily_message, shared_message
from bot.adapters.slack.poster import SlackPoster
from bot.chat.replies import PAGE_LINK
from bot.config import Secret, Settings
from bot.quotes.service import QuoteService
from bot.runtime import Core
from bot.web.links import permalink, quote_id_in
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import CHANNEL_ID, FakeSlack, link_shared_event
from tests.support.slack import events_url, post_signed_reply, running_platform, slack_settings
from tests.support.web import DAY, PUBLIC


def link_buttons(components: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (b["label"], b["url"]) for row in components for b in row["components"] if b["style"] == 5
    ]


def discord_settings(settings: Settings, public_url: str | None) -> Settings:
    return replace(settings, discord_token=Secret("fake-token"), public_url=public_url)


async def test_discord_shared_and_daily_posts_carry_a_button_to_the_page(
    settings: Settings, core: Core, run_client: Any, service: QuoteService
) -> None:
    linked = discord_settings(settings, PUBLIC)
    platform = DiscordPlatform(linked, core, client=make_client(guild_ready_timeout=0.05))
    fake: FakeDiscord
    async with run_client(platform.client) as fake:
        await fake.send_interaction(
            fake.slash_command("lambert", {"query": "id ppo-performance-edge"})
        )
        preview = await fake.next_callback()
        post = next(
            b["custom_id"]
            for row in preview.components
            for b in row["components"]
            if b["label"] == "Post"
        )
        await fake.send_interaction(fake.component_click(post, preview))
        posted = await fake.next_channel_message()
        assert link_buttons(posted.components) == [
            (PAGE_LINK, permalink(PUBLIC, "ppo-performance-edge"))
        ]
        quote = await service.quote("ppo-performance-edge")
        assert quote is not None
        cases = [(PUBLIC, [(PAGE_LINK, permalink(PUBLIC, quote.id))]), (None, [])]
        for n, (public_url, expected) in enumerate(cases):
            async with open_discord_poster(
                discord_settings(settings, public_url), io.StringIO()
            ) as poster:
                # Another day each: a resend of the same day returns the first (its nonce).
                await poster.post_daily(str(fake.channel_id), quote, DAY + timedelta(days=n))
            assert link_buttons((await fake.next_channel_message()).components) == expected


def as_json(value: Any) -> Any:
    """A Web API argument as the fake received it: a form field holds JSON text."""
    return json.loads(value) if isinstance(value, str) else value


def slack_links(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        e["text"]
        for b in blocks
        if b["type"] == "context"
        for e in b["elements"]
        if e["text"].startswith("<http")
    ]


async def test_slack_shared_and_daily_posts_carry_a_line_linking_the_page(
    fake_slack: FakeSlack, service: QuoteService
) -> None:
    quote = await service.quote("ppo-performance-edge")
    assert quote is not None
    line = f"<{PUBLIC}/q/{quote.id}|Page and card>"
    assert slack_links(shared_message(quote, "Reader", None, PUBLIC)["blocks"]) == [line]
    assert slack_links(shared_message(quote, "Reader")["blocks"]) == []
    assert slack_links(daily_message(quote)["blocks"]) == []

    await SlackPoster(fake_slack.client(), public_url=PUBLIC).post_daily(CHANNEL_ID, quote, DAY)
    (call,) = fake_slack.calls("chat.postMessage")
    assert slack_links(as_json(call.args["blocks"])) == [line]


async def test_slack_unfurls_links_to_a_quote_page_as_a_shared_quote(
    fake_slack: FakeSlack, core: Core, settings: Settings, service: QuoteService
) -> None:
    quote = await service.quote("ppo-performance-edge")
    assert quote is not None
    page = permalink(PUBLIC, quote.id)
    others = [f"{PUBLIC}/themes/{quote.theme}", f"{PUBLIC}/q/no-such-quote", "https://x.org/q/a"]
    linked = slack_settings(settings, public_url=PUBLIC)
    async with running_platform(fake_slack, core, linked) as platform:
        event = link_shared_event([page, *others], CHANNEL_ID, "1700000000.000100")
        status, _ = await post_signed_reply(
            events_url(platform), json.dumps(event), "application/json"
        )
        assert status == 200
        call = await fake_slack.next_call("chat.unfurl")
    assert call.response == {"ok": True}
    assert (call.args["channel"], call.args["ts"]) == (CHANNEL_ID, "1700000000.000100")
    unfurls = as_json(call.args["unfurls"])
    assert unfurls == {
        page: {"blocks": shared_message(quote, "", card_url(PUBLIC, quote), PUBLIC)["blocks"]}
    }
    blocks = unfurls[page]["blocks"]
    assert {"type": "image", "image_url": f"{page}.png"}.items() <= blocks[2].items()


def test_only_a_link_to_a_quote_page_names_a_quote() -> None:
    assert quote_id_in(PUBLIC, f"{PUBLIC}/q/dpo-vs-ppo") == "dpo-vs-ppo"
    assert quote_id_in(PUBLIC, f"{PUBLIC}/q/dpo-vs-ppo/?utm=x#top") == "dpo-vs-ppo"
    for other in (
        f"{PUBLIC}/q/dpo-vs-ppo.png",
        f"{PUBLIC}/q/",
        f"{PUBLIC}/themes/dpo",
        f"{PUBLIC}/q/a/b",
        "https://quotes.example.org.evil.com/q/dpo",
        "https://elsewhere.org/q/dpo",
    ):
        assert quote_id_in(PUBLIC, other) is None, other
