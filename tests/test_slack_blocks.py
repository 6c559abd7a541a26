"""Block Kit rendering: escaping, quotation marks only for his words, and Slack's size limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.adapters.slack.blocks import (
    CANCEL,
    POST,
    SHUFFLE,
    TEXT_LIMIT,
    VALUE_LIMIT,
    escape,
    list_message,
    mrkdwn,
    preview_message,
    read_shuffle_value,
    shared_message,
    shuffle_value,
    text_message,
)
from bot.chat.replies import ListReply, QuoteReply, TextReply
from bot.quotes.models import PARAPHRASE_LABEL, Kind, Quote

HOSTILE = "<!channel> <@U123> <!here|here> <https://evil.example|click> a && b > c"


def make_quote(text: str = "Open models matter.", kind: Kind = Kind.QUOTE, **fields: str) -> Quote:
    values = {
        "id": "open-models",
        "theme": "open-source",
        "theme_title": "The Philosophy of Open Source AI",
        "topic": "On open models",
        "source": "Interconnects",
    } | fields
    return Quote(text=text, kind=kind, **values)


def texts(message: dict[str, Any]) -> list[str]:
    """Every string Slack would parse as markup: the fallback and each text object."""
    found = [message["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return found


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e for block in actions for e in block["elements"]}


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),  # already-escaped text stays visible as typed
        ("<https://x.example|x>", "&lt;https://x.example|x&gt;"),
        ("plain", "plain"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_mrkdwn_cuts_to_the_limit_without_breaking_an_entity() -> None:
    cut = mrkdwn("&" * 50, limit=12)
    assert len(cut) <= 12
    assert cut == "&amp;&amp;\u2026"


@pytest.mark.parametrize("kind", list(Kind))
def test_hostile_corpus_text_is_escaped_everywhere(kind: Kind) -> None:
    quote = make_quote(HOSTILE, kind, topic="On <!everyone>", source="<@U999>")
    reply = QuoteReply(quote, matches=3, request="<!channel>", note="see <#C1>")
    for message in (preview_message(reply), shared_message(quote, "<!here> bob")):
        for text in texts(message):
            assert "<" not in text and ">" not in text, text


def test_a_quote_is_in_quotation_marks_with_its_credit() -> None:
    section = preview_message(QuoteReply(make_quote()))["blocks"][0]["text"]["text"]
    assert section.startswith("\u201cOpen models matter.\u201d\n")
    assert "Nathan Lambert, Interconnects" in section


def test_a_paraphrase_is_labelled_and_never_in_quotation_marks() -> None:
    quote = make_quote("He thinks open models matter.", Kind.PARAPHRASE)
    for message in (preview_message(QuoteReply(quote)), shared_message(quote, "ann")):
        section = message["blocks"][0]["text"]["text"]
        assert not section.startswith("\u201c")
        assert PARAPHRASE_LABEL in section
        assert "\u201c" not in message["text"]


def test_context_line_names_topic_theme_source_and_id() -> None:
    context = preview_message(QuoteReply(make_quote()))["blocks"][1]
    assert context["elements"][0]["text"] == (
        "On open models \u00b7 The Philosophy of Open Source AI \u00b7 Interconnects"
        " \u00b7 id: open-models"
    )


def test_preview_has_post_shuffle_cancel_and_shuffle_needs_more_than_one_match() -> None:
    quote = make_quote()
    assert list(buttons(preview_message(QuoteReply(quote, matches=4, request="open")))) == [
        POST,
        SHUFFLE,
        CANCEL,
    ]
    assert list(buttons(preview_message(QuoteReply(quote, matches=1)))) == [POST, CANCEL]
    assert buttons(preview_message(QuoteReply(quote)))[POST]["value"] == "open-models"


@pytest.mark.parametrize(
    "request_text",
    ["dpo", "", '"\\' * 3000, "\U0001f600" * 5000, "search " + "x" * 9000],
    ids=["short", "empty", "quotes-and-backslashes", "emoji", "long"],
)
def test_shuffle_value_fits_and_round_trips(request_text: str) -> None:
    value = shuffle_value(request_text, "some-quote-id")
    assert len(value) <= VALUE_LIMIT
    request, quote_id = read_shuffle_value(value)
    assert request_text.startswith(request)
    assert quote_id == "some-quote-id"


@pytest.mark.parametrize("value", ["", "not json", "[1, 2]", "null", json.dumps({"r": 5})])
def test_a_shuffle_value_we_did_not_write_reads_as_nothing(value: str) -> None:
    request, quote_id = read_shuffle_value(value)
    assert quote_id == ""
    assert isinstance(request, str)


def test_shared_message_credits_the_sharer_as_plain_text() -> None:
    message = shared_message(make_quote(), "ann")
    assert message["blocks"][-1]["elements"][0]["text"] == "Shared by ann with /lambert"
    assert "<@" not in json.dumps(message)


def test_list_and_text_messages_stay_within_limits() -> None:
    long_lines = tuple("`/lambert x` " + "y" * 900 for _ in range(12))
    message = text_message(TextReply("Themes", long_lines))
    assert len(message["blocks"]) > 2
    assert all(len(t) <= TEXT_LIMIT for t in texts(message))
    joined = "\n".join(b["text"]["text"] for b in message["blocks"][1:])
    assert joined == "\n".join(long_lines)

    quotes = tuple(make_quote("z" * 5000, id=f"q{n}") for n in range(5))
    listed = list_message(ListReply("5 quotes match \u201cz\u201d", quotes, 7))
    assert all(len(t) <= TEXT_LIMIT for t in texts(listed))
    assert "(7 in all.)" in listed["blocks"][-1]["elements"][0]["text"]


def test_a_refusal_is_marked() -> None:
    message = text_message(TextReply("Only admins can do that.", ("Ask one.",), ok=False))
    assert message["blocks"][0]["text"]["text"] == "*:warning: Only admins can do that.*"


def test_a_paraphrase_in_a_list_is_tagged_and_unquoted() -> None:
    said = make_quote("His words.", id="said")
    summary = make_quote("Someone's summary.", Kind.PARAPHRASE, id="summary")
    listed = list_message(ListReply("2 quotes match", (said, summary), 2))
    sections = [b["text"]["text"] for b in listed["blocks"] if b["type"] == "section"]
    assert "\u201cHis words.\u201d" in sections[1]
    assert "[summary of his view] Someone's summary." in sections[2]
    assert "\u201cSomeone" not in sections[2]
