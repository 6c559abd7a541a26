"""`/lambert card <request>` end to end: the grammar's row, the console, `lambert card`, and the
card in Discord (an uploaded attachment, parsed from multipart by the fake) and in Slack (an
image block at LAMBERT_PUBLIC_URL, or the line that says how to turn cards on)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.adapters.console import run_console
from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client
from bot.adapters.slack.app import SlackPlatform
from bot.adapters.slack.blocks import CARDS_OFF, POST, mrkdwn
from bot.chat.grammar import another, answer
from bot.chat.replies import ANOTHER_LABEL, QuoteReply, TextReply
from bot.config import Secret, Settings
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.discord_platform import BOT_DM, FakeDiscord, Request
from tests.fakes.slack_platform import FakeSlack
from tests.support.cli import run
from tests.support.discord import button, post_button
from tests.support.slack import click, quote_id_of, running_platform, slack_settings, slash

PUBLIC_URL = "https://quotes.example.org"


def png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


# -- the grammar ---------------------------------------------------------------------------------


async def test_card_finds_what_the_request_finds_and_another_stays_a_card(core: Core) -> None:
    reply = await answer(core, "/lambert card dpo")
    assert isinstance(reply, QuoteReply) and reply.card and reply.quote.theme == "dpo-vs-ppo"
    following = await another(core, reply.request, reply.quote.id)
    assert isinstance(following, QuoteReply) and following.card
    assert following.quote.theme == "dpo-vs-ppo" and following.quote.id != reply.quote.id

    for request in ("card dpo-simplicity", "card id dpo-simplicity"):
        by_id = await answer(core, request)
        assert isinstance(by_id, QuoteReply) and by_id.card
        assert (by_id.quote.id, by_id.matches) == ("dpo-simplicity", 1)

    words = await answer(core, "card reward hacking")
    assert isinstance(words, QuoteReply) and words.card and words.quote.id == "reward-hacking"


async def test_a_mistyped_id_says_so_instead_of_showing_some_card(core: Core) -> None:
    reply = await answer(core, "card dpo-simplicty")
    assert isinstance(reply, TextReply)
    assert "dpo-simplicty" in reply.title and "dpo-simplicity" in reply.lines[0]


# -- the console and the command line -----------------------------------------------------------


async def test_the_console_writes_the_card_and_names_the_file(core: Core, tmp_path: Path) -> None:
    out = io.StringIO()
    lines = io.StringIO("card id dpo-simplicity\n")
    assert await run_console(core, lines, out, interactive=False, cards=tmp_path / "cards") == 0
    path = tmp_path / "cards" / "lambert-card-dpo-simplicity.png"
    assert f"Card: {path}" in out.getvalue()
    assert png_size(path.read_bytes())[0] == 1200


def test_lambert_card_writes_a_png_and_says_where(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "card", "dpo-simplicity")
    assert (code, err) == (0, "")
    written = tmp_path / "lambert-card-dpo-simplicity.png"  # the working folder
    assert str(written.name) in out and png_size(written.read_bytes()) == (1200, 630)

    code, out, _ = run(capsys, "card", "reward", "hacking", "--out", str(tmp_path / "x.png"))
    assert code == 0 and (tmp_path / "x.png").exists()

    folder = tmp_path / "cards"
    folder.mkdir()
    code, out, _ = run(capsys, "card", "id", "reward-hacking", "--out", str(folder), "--json")
    path = folder / "lambert-card-reward-hacking.png"
    assert json.loads(out) == {
        "path": str(path),
        "id": "reward-hacking",
        "width": 1200,
        "height": png_size(path.read_bytes())[1],
    }


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["card", "no-such-entry"], "No quote has the id \u201cno-such-entry\u201d."),
        (["card", "zzqqxxvv"], "No quote matches \u201czzqqxxvv\u201d."),
        (["card", "dpo", "--out", "missing/folder/x.png"], "cannot write missing/folder/x.png"),
    ],
)
def test_lambert_card_refuses_in_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (1, "")
    assert err.startswith(f"lambert: {said}") and err.count("\n") == 1


# -- Discord: the card uploaded with the answer ---------------------------------------------------


@pytest.fixture
async def fake(settings: Settings, core: Core, run_client: Any) -> AsyncIterator[FakeDiscord]:
    settings = replace(settings, discord_token=Secret("fake-token"))
    platform = DiscordPlatform(settings, core, client=make_client(guild_ready_timeout=0.05))
    async with run_client(platform.client) as fake:
        yield fake


def uploads(fake: FakeDiscord, path_start: str) -> list[Request]:
    return [r for r in fake.requests if r.path.startswith(path_start) and r.files]


def the_card(request: Request, quote_id: str) -> None:
    """`request` uploaded exactly the quote's card, named as its payload says."""
    name = f"lambert-card-{quote_id}.png"
    assert [(f["field"], f["filename"]) for f in request.files] == [("files[0]", name)]
    assert png_size(request.files[0]["data"])[0] == 1200
    message = request.json.get("data", request.json)  # a callback nests the message in data
    assert [a["filename"] for a in message["attachments"]] == [name]
    assert message["embeds"][0]["image"]["url"] == f"attachment://{name}"


async def test_discord_previews_the_card_privately_and_post_shares_it(fake: FakeDiscord) -> None:
    command = fake.slash_command("lambert", {"query": "card id dpo-simplicity"})
    await fake.send_interaction(command)
    preview = await fake.next_callback()
    assert (preview.type, preview.ephemeral) == (4, True)
    (answer_request,) = uploads(fake, "/interactions/")
    the_card(answer_request, "dpo-simplicity")

    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    posted = await fake.next_channel_message()
    assert posted.embeds[0]["image"]["url"] == "attachment://lambert-card-dpo-simplicity.png"
    (post_request,) = uploads(fake, "/channels/")
    the_card(post_request, "dpo-simplicity")
    note = await fake.next_webhook_message()  # the preview becomes "Posted", its card removed
    assert note.body["attachments"] == [] and note.message is not None
    assert note.message["attachments"] == []


async def test_another_on_a_card_preview_swaps_the_card(fake: FakeDiscord) -> None:
    await fake.send_interaction(fake.slash_command("lambert", {"query": "card dpo"}))
    preview = await fake.next_callback()
    first = preview.embeds[0]["footer"]["text"].rpartition("id: ")[2]
    await fake.send_interaction(fake.component_click(button(preview, ANOTHER_LABEL), preview))
    swapped = await fake.next_callback()
    second = swapped.embeds[0]["footer"]["text"].rpartition("id: ")[2]
    assert swapped.type == 7 and second != first
    assert [r.json["type"] for r in uploads(fake, "/interactions/")] == [4, 7]
    the_card(uploads(fake, "/interactions/")[-1], second)
    assert swapped.message is not None
    assert [a["filename"] for a in swapped.message["attachments"]] == [f"lambert-card-{second}.png"]


async def test_a_user_install_gets_the_card_through_the_interaction(fake: FakeDiscord) -> None:
    place = fake.user_install_place(BOT_DM)
    command = fake.slash_command(
        "lambert", {"query": "card reward-hacking"}, channel_id=place.channel_id
    )
    await fake.send_interaction(command)
    preview = await fake.next_callback()
    the_card(uploads(fake, "/interactions/")[0], "reward-hacking")

    await fake.send_interaction(fake.component_click(post_button(preview), preview))
    shared = await fake.next_webhook_message()
    assert (shared.kind, shared.ephemeral) == ("followup", False)
    (followup,) = uploads(fake, "/webhooks/")
    the_card(followup, "reward-hacking")
    assert uploads(fake, "/channels/") == []


# -- Slack: the web site's copy, or how to turn cards on ------------------------------------------


def images(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == "image"]


async def test_slack_shows_the_card_from_the_public_url_and_post_shares_it(
    core: Core, fake_slack: FakeSlack, settings: Settings, service: QuoteService
) -> None:
    configured = slack_settings(settings, public_url=PUBLIC_URL)
    async with running_platform(fake_slack, core, configured) as platform:
        preview = (await slash(fake_slack, platform, "card dpo-simplicity")).body
        url = f"{PUBLIC_URL}/q/dpo-simplicity.png"
        (image,) = images(preview)
        assert image["image_url"] == url and "DPO" in image["alt_text"]
        assert quote_id_of(preview) == "dpo-simplicity"

        await click(fake_slack, platform, preview, POST)
        posted = (await fake_slack.next_call("chat.postMessage")).args
        assert [b["image_url"] for b in images(posted)] == [url]

        plain = (await slash(fake_slack, platform, "dpo")).body  # no card unless asked
        assert images(plain) == []


async def test_slack_without_a_public_url_answers_the_quote_and_says_how_to_get_cards(
    fake_slack: FakeSlack, platform_without_url: SlackPlatform
) -> None:
    preview = (await slash(fake_slack, platform_without_url, "card dpo-simplicity")).body
    assert images(preview) == [] and quote_id_of(preview) == "dpo-simplicity"
    contexts = [
        e["text"] for b in preview["blocks"] if b["type"] == "context" for e in b["elements"]
    ]
    assert mrkdwn(CARDS_OFF) in contexts and "LAMBERT_PUBLIC_URL" in CARDS_OFF

    await click(fake_slack, platform_without_url, preview, POST)
    posted = (await fake_slack.next_call("chat.postMessage")).args
    assert images(posted) == []  # the quote as text, as previewed


@pytest.fixture
async def platform_without_url(
    core: Core, fake_slack: FakeSlack, settings: Settings
) -> AsyncIterator[SlackPlatform]:
    async with running_platform(fake_slack, core, slack_settings(settings)) as platform:
        yield platform
