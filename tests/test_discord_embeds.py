"""Discord rendering: quotes in quotation marks, summaries never, every payload within limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord.embeds import (
    DAILY_FOOTER,
    Message,
    daily_message,
    reply_message,
    shared_message,
)
from bot.chat.replies import (
    ERROR_TEXT,
    PREVIEW_BUTTONS,
    ListReply,
    QuoteReply,
    TextReply,
)
from bot.chat.replies import ERROR_TEXT as DISCORD_ERROR
from bot.quotes.models import PARAPHRASE_LABEL, Kind, Quote
from tests.fakes.discord_platform import message_form_errors


def quote(kind: Kind = Kind.QUOTE, size: int = 80, **changes: str) -> Quote:
    fields = {
        "id": "a-quote",
        "text": ("word " * size)[:size].strip() or "x",
        "kind": kind,
        "theme": "dpo-vs-ppo",
        "theme_title": "DPO vs. PPO: The Optimizer Debate",
        "topic": "On optimizers",
        "source": "Interconnects",
        **changes,
    }
    return Quote(**fields)


def payload(message: Message) -> dict[str, Any]:
    return {"content": message.content, "embeds": [e.to_dict() for e in message.embeds]}


def test_a_quote_is_in_quotation_marks_with_topic_author_and_footer() -> None:
    embed = reply_message(QuoteReply(quote())).embeds[0].to_dict()
    assert embed["title"] == "On optimizers"
    assert embed["author"]["name"] == "Nathan Lambert"
    assert embed["description"] == f"\u201c{quote().text}\u201d"
    assert embed["footer"]["text"] == (
        "DPO vs. PPO: The Optimizer Debate \u00b7 Interconnects \u00b7 id: a-quote"
    )


def test_a_paraphrase_is_labelled_and_never_in_quotation_marks() -> None:
    summary = quote(Kind.PARAPHRASE)
    embed = reply_message(QuoteReply(summary)).embeds[0].to_dict()
    assert embed["author"]["name"] == PARAPHRASE_LABEL
    assert embed["description"] == summary.text


@pytest.mark.parametrize("kind", list(Kind))
def test_huge_fields_are_cut_to_discords_limits(kind: Kind) -> None:
    big = quote(kind, size=10_000, topic="On " + "t" * 400, source="s" * 3_000)
    for message in (
        reply_message(QuoteReply(big, note="n" * 3_000)),
        shared_message(big, "m" * 3_000),
        daily_message(big),
        reply_message(ListReply("l" * 400, (big,) * 5, 5)),
        reply_message(TextReply("t" * 400, ("line " * 200,) * 10)),
    ):
        assert message_form_errors(payload(message)) == {}
    description = reply_message(QuoteReply(big)).embeds[0].description or ""
    assert description.endswith("\u2026\u201d" if kind is Kind.QUOTE else "\u2026")
    assert description.startswith("\u201c") is (kind is Kind.QUOTE)


def test_the_sharer_is_named_without_mention_or_markup() -> None:
    content = shared_message(quote(), "@everyone **loud** <@&123>").content or ""
    assert content.startswith("Shared by ")
    assert "@everyone" not in content and "<@&123>" not in content
    assert "**" not in content


def test_the_daily_post_says_what_it_is() -> None:
    footer = daily_message(quote()).embeds[0].footer.text or ""
    assert footer.endswith(DAILY_FOOTER)
    assert "id: a-quote" in footer


def test_a_quotes_note_is_the_message_text() -> None:
    message = reply_message(QuoteReply(quote(), matches=3, note="2 more quotes match."))
    assert message.content == "2 more quotes match."


def test_a_paraphrase_in_a_list_is_tagged_and_unquoted() -> None:
    said = quote(id="said")
    summary = quote(Kind.PARAPHRASE, id="summary")
    embed = reply_message(ListReply("2 quotes match", (said, summary), 2)).embeds[0]
    values = [f.value or "" for f in embed.fields]
    assert values[0].startswith("\u201c")
    assert values[1].startswith("[summary of his view] ") and "\u201c" not in values[1]


def test_the_preview_buttons_and_the_error_text_read_the_same_on_discord_and_slack() -> None:
    from bot.adapters.discord.views import Preview
    from bot.adapters.slack.blocks import error_message, preview_message

    slack = preview_message(QuoteReply(quote(), matches=2))["blocks"][-1]["elements"]
    assert tuple(b["text"]["text"] for b in slack) == PREVIEW_BUTTONS
    # The class's buttons, in the order Discord shows them.
    buttons = Preview.__view_children_items__.values()
    assert tuple(b.__discord_ui_model_kwargs__["label"] for b in buttons) == PREVIEW_BUTTONS
    assert error_message()["text"] == ERROR_TEXT == DISCORD_ERROR
