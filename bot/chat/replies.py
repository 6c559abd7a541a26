"""Neutral replies the core returns and every adapter renders: no platform types here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.quotes.models import AUTHOR as AUTHOR
from bot.quotes.models import PARAPHRASE_LABEL as PARAPHRASE_LABEL
from bot.quotes.models import PARTIAL_LABEL as PARTIAL_LABEL
from bot.quotes.models import Kind, Quote
from bot.quotes.models import credit_line as credit_line
from bot.quotes.models import quoted_body as quoted_body
from bot.quotes.models import summary_label as summary_label

PREVIEW_BUTTONS = ("Post", "Another", "Cancel")
"""The preview's buttons, named once for every platform: share it, show the next match, drop it."""
POST_LABEL, ANOTHER_LABEL, CANCEL_LABEL = PREVIEW_BUTTONS
MORE_LABEL = "More"
"""The button under a list of results that shows the next page (`ListReply.more`)."""
# What every platform says when answering failed; the details go to the log, never to chat.
ERROR_TEXT = "Something went wrong; please try again."

SUMMARY_TAG = "[summary of his view]"
PARTIAL_TAG = "[summary of his view, quoting him in part]"


def summary_tag(quote: Quote) -> str:
    return PARTIAL_TAG if quote.quotes_in_part else SUMMARY_TAG


def listed_body(quote: Quote) -> str:
    """The text in a list of results, where no credit line follows to say what a summary is."""
    return quoted_body(quote) if quote.kind is Kind.QUOTE else f"{summary_tag(quote)} {quote.text}"


def footer_line(quote: Quote) -> str:
    """Theme, source and id: enough to find the entry again with `/lambert id <id>`."""
    return f"{quote.theme_title} \u00b7 {quote.source} \u00b7 id: {quote.id}"


@dataclass(frozen=True, slots=True)
class QuoteReply:
    """One quote to show; `matches` counts every quote the request matched, this one included.
    `request`: the text that produced it, so an "Another" button can ask `grammar.another(
    request, after=quote.id)` without state of its own. `card`: show the quote's card with it
    (Discord attaches it, Slack links the web site's copy)."""

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
    """Several quotes in rank order (`/lambert search ...`), `total` counting all that matched;
    `first`: the rank of the first one shown; `more`: the request for the next page, if any."""

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
    """Plain guidance: help, themes, "nothing found", refusals, confirmations. `lines`: separate
    paragraphs or list items; `ok` False for refusals and errors the user should notice; `form`:
    the settings form it stands in for; `meant`: the request a "Did you mean" suggests (a typed
    `another` shows a quote for it)."""

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
