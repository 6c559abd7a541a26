"""Neutral replies the core returns and every adapter renders: no platform types here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.quotes.models import Kind, Quote, credit_line, quoted_body

# The preview's buttons on every platform (share it, show the next match, drop it), the one
# under a list that shows its next page (`ListReply.more`), the link to a quote's web page.
PREVIEW_BUTTONS = ("Post", "Another", "Cancel")
POST_LABEL, ANOTHER_LABEL, CANCEL_LABEL = PREVIEW_BUTTONS
MORE_LABEL, PAGE_LINK = "More", "Page and card"
# What every platform says when answering failed; the details go to the log, never to chat.
ERROR_TEXT = "Something went wrong; please try again."

SUMMARY_TAG = "[summary of his view]"
PARTIAL_TAG = "[summary of his view, quoting him in part]"


def cut(text: str, limit: int) -> str:
    """`text` if it fits, else its start and an ellipsis, `limit` characters in all."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "\u2026"


def summary_tag(quote: Quote) -> str:
    return PARTIAL_TAG if quote.quotes_in_part else SUMMARY_TAG


def credited(quote: Quote, between: str = " ") -> str:
    """His words in quotation marks (a summary never), then who said it and where."""
    return f"{quoted_body(quote)}{between}{credit_line(quote)}"


def fitted(quote: Quote, limit: int) -> str:
    """His words in quotation marks, a summary never; cut inside the marks so they survive."""
    if quote.kind is Kind.QUOTE:
        return f"\u201c{cut(quote.text, limit - 2)}\u201d"
    return cut(quote.text, limit)


def listed_body(quote: Quote, limit: int = sys.maxsize) -> str:
    """The text in a list of results, where no credit line follows to say what a summary is."""
    tag = "" if quote.kind is Kind.QUOTE else f"{summary_tag(quote)} "
    return tag + fitted(quote, limit - len(tag))


def footer_line(quote: Quote) -> str:
    """Theme, source and id: enough to find the entry again with `/lambert id <id>`."""
    return f"{quote.theme_title} \u00b7 {quote.source} \u00b7 id: {quote.id}"


@dataclass(frozen=True, slots=True)
class QuoteReply:
    """One quote; `matches` counts every match, this one included. `request` lets Another ask
    `grammar.another(request, after=quote.id)` statelessly. `card`: show the quote's card too."""

    quote: Quote
    matches: int = 1
    request: str = ""
    note: str = ""
    card: bool = False
    # "Lambert on this": the ids that fit the message, best first. Another walks them
    # (chat/on_this.py), since the message itself is never kept, nor carried in a button.
    ranked: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListReply:
    """Quotes ranked `first` on, of `total` matches; `more`: the next page's request, if any."""

    title: str
    quotes: tuple[Quote, ...]
    total: int
    first: int = 1
    more: str = ""


def list_footer(reply: ListReply, code: Callable[[str], str] = lambda c: f"`{c}`") -> str:
    """What follows a list on every platform: how to show one, how many, how to see more;
    `code` marks up a command to type (backticks in chat)."""
    show = f"Show one with {code('/lambert id <id>')}."
    if not reply.more and reply.first == 1:
        return f"{show} ({reply.total} in all.)"
    last = reply.first + len(reply.quotes) - 1
    more = f" More: {code('/lambert ' + reply.more)}." if reply.more else ""
    return f"{show} ({reply.first}-{last} of {reply.total}.){more}"


@dataclass(frozen=True, slots=True)
class TextReply:
    """Help, themes, "nothing found", refusals, confirmations: `lines` are paragraphs or items;
    `ok` False for what the user should notice; `form`: the settings form it stands in for;
    `meant`: the request a "Did you mean" suggests (a typed `another` shows a quote for it)."""

    title: str
    lines: tuple[str, ...] = field(default_factory=tuple)
    ok: bool = True
    form: Form | None = None
    meant: str = ""


class Form(StrEnum):
    """How a platform with a daily-quote form (Slack's) may use it with a reply, for admins."""

    OFFER = "offer"  # a button that opens it (`daily status`)
    OPEN = "open"  # open it instead of the reply (`daily` alone); the reply if it cannot


Reply = QuoteReply | ListReply | TextReply
