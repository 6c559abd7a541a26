"""Block Kit for Slack: neutral replies in, escaped mrkdwn messages and button values out."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from bot.adapters.slack.payload import read_json, str_at
from bot.chat import replies
from bot.chat.replies import ERROR_TEXT, PAGE_LINK, ListReply, QuoteReply, Reply, TextReply, cut
from bot.quotes.models import Quote
from bot.web.links import card_path, permalink

Message = dict[str, Any]  # keyword arguments for respond() and chat.postMessage: text + blocks
Block = dict[str, Any]

TEXT_LIMIT = 3000  # a section's or context element's text object
VALUE_LIMIT = 2000  # a button's value
ALT_TEXT_LIMIT = 2000  # an image block's alt_text
LABEL_LIMIT = 75  # a button's or an option's text
REQUEST_CHARS = 900  # request text kept in a Shuffle value: JSON may double it, still < 2000
ACTIONS_BLOCK = "lambert_actions"
# Kept as they were when the button said "Shuffle": clicks on older previews still work.
POST, SHUFFLE, CANCEL = "lambert_post", "lambert_shuffle", "lambert_cancel"
MORE = "lambert_more"  # its value is the request for the next page of results
CARD_PREFIX = "card "  # a Post value "card ID" shares the quote with its card
# "Lambert on this": the shortcut's payload carries the message (no history scope needed), its
# text matched, never kept or logged. ON_THIS: the shortcut's callback_id in the manifest.
ON_THIS = "lambert_on_this"
ON_THIS_POST, ON_THIS_ANOTHER = "lambert_on_this_post", "lambert_on_this_another"

# Mentions, channel links and special mentions (<@U1>, <#C1|general>, <!here>) name nobody's
# subject; a link <https://...|label> keeps its label.
_MARKUP = re.compile(r"<([@#!][^>]*)>|<[^>|]*\|([^>]*)>|<[^>]*>")
_EMOJI = re.compile(r":[a-z0-9_+'-]+:")  # :joy:, :+1:, :skin-tone-2: are no subject either
CARDS_OFF = (
    "Cards show in Slack once lambert's web site is online: set LAMBERT_PUBLIC_URL to its "
    "address and run the site (`lambert web`)."
)


def escape(text: str) -> str:
    """Slack's three control characters: nothing we send can become a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` escaped, cut so the escaped form fits `limit` (never through an entity)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    fits = sum(1 for used in accumulate(len(escape(c)) for c in text) if used < limit)
    return escape(text[:fits]) + "\u2026"


def plain(text: str, limit: int = LABEL_LIMIT) -> Block:
    return {"type": "plain_text", "text": cut(text, limit)}


def section(text: str) -> Block:  # `text`: escaped mrkdwn, as below
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:TEXT_LIMIT]}}


def sections(lines: list[str]) -> list[Block]:
    """`lines` in as few sections as they fit."""
    blocks, chunk = [], ""
    for line in lines:
        if chunk and len(chunk) + 1 + len(line) > TEXT_LIMIT:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    return [*blocks, section(chunk)] if chunk else blocks


def context(*texts: str) -> Block:
    elements = [{"type": "mrkdwn", "text": text[:TEXT_LIMIT]} for text in texts]
    return {"type": "context", "elements": elements}


def button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    found: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label),
        "value": value[:VALUE_LIMIT],
    }
    return {**found, "style": style} if style else found


def quote_blocks(quote: Quote) -> list[Block]:
    """His words in quotation marks with a credit, or a labelled summary; then the context."""
    where = f"{quote.topic} \u00b7 {replies.footer_line(quote)}"
    return [section(mrkdwn(replies.credited(quote, "\n"))), context(mrkdwn(where))]


def card_url(public_url: str, quote: Quote) -> str:
    return public_url + card_path(quote.id)


def card_block(quote: Quote, url: str) -> Block:
    """The card as an image; its alt text is the quote and credit, as the card shows them."""
    return {
        "type": "image",
        "image_url": url,
        "alt_text": cut(replies.credited(quote), ALT_TEXT_LIMIT),
    }


def fallback_text(quote: Quote) -> str:
    """The plain text notifications and screen readers show instead of the blocks."""
    return mrkdwn(replies.credited(quote))


def shuffle_value(request: str, quote_id: str) -> str:
    """What Shuffle needs, carried in the button itself so the bot keeps no state."""
    return json.dumps({"r": request[:REQUEST_CHARS], "q": quote_id}, ensure_ascii=False)


def read_shuffle_value(value: str) -> tuple[str, str]:
    """(request, quote id) from shuffle_value(); empty strings for a value we did not write."""
    data = read_json(value, VALUE_LIMIT)
    return str_at(data, "r"), str_at(data, "q")


def preview_message(
    reply: QuoteReply, public_url: str | None = None, ids: tuple[str, str, str] | None = None
) -> Message:
    """The ephemeral preview with its buttons; `ids` for "Lambert on this"."""
    quote = reply.quote
    blocks = quote_blocks(quote)
    card = reply.card and public_url is not None
    if public_url is not None and reply.card:
        blocks.append(card_block(quote, card_url(public_url, quote)))
    elif reply.card:
        blocks.append(context(mrkdwn(CARDS_OFF)))
    if reply.note:
        blocks.append(context(mrkdwn(reply.note)))
    post, another, value = ids or (POST, SHUFFLE, "")
    post_value = value or (CARD_PREFIX + quote.id if card else quote.id)
    buttons = [button(post, replies.POST_LABEL, post_value, "primary")]
    if reply.matches > 1:  # with one match Another would only show the same quote again
        another_value = value or shuffle_value(reply.request, quote.id)
        buttons.append(button(another, replies.ANOTHER_LABEL, another_value))
    buttons.append(button(CANCEL, replies.CANCEL_LABEL, "cancel"))
    blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons})
    return {"text": fallback_text(quote), "blocks": blocks}


def shared_message(
    quote: Quote, shared_by: str, card: str | None = None, public_url: str | None = None
) -> Message:
    """The quote posted for everyone (or unfurled): the sharer's name in plain text, no ping."""
    credit = f"Shared by {shared_by} with /lambert" if shared_by else "Shared with /lambert"
    return _posted(quote, credit, public_url, (card_block(quote, card),) if card else ())


def daily_message(quote: Quote, public_url: str | None = None) -> Message:
    return _posted(quote, "Daily quote \u00b7 /lambert daily", public_url)


def _posted(quote: Quote, line: str, site: str | None, image: tuple[Block, ...] = ()) -> Message:
    """The quote, its card if any, `line` under it, then the link to its page if online."""
    blocks = [*quote_blocks(quote), *image, context(mrkdwn(line))]
    if site:  # Slack's escaping is valid inside <...>
        blocks.append(context(f"<{escape(permalink(site, quote.id))}|{PAGE_LINK}>"))
    return {"text": fallback_text(quote), "blocks": blocks}


def list_message(reply: ListReply) -> Message:
    blocks = [section(mrkdwn(f"*{reply.title}*"))]
    for quote in reply.quotes:
        listed = f"`{quote.id}` *{quote.topic}*\n{replies.listed_body(quote)}"
        blocks.append(section(mrkdwn(listed)))
    blocks.append(context(mrkdwn(replies.list_footer(reply))))
    # A request too long for a button's value keeps only the footer's "More: ..." to type.
    if reply.more and len(reply.more) <= VALUE_LIMIT:
        blocks.append(
            {"type": "actions", "elements": [button(MORE, replies.MORE_LABEL, reply.more)]}
        )
    return {"text": mrkdwn(reply.title), "blocks": blocks}


def text_message(reply: TextReply) -> Message:
    title = reply.title if reply.ok else f":warning: {reply.title}"
    blocks = [section(mrkdwn(f"*{title}*")), *sections([mrkdwn(line) for line in reply.lines])]
    return {"text": mrkdwn(reply.title), "blocks": blocks}


def reply_message(
    reply: Reply, public_url: str | None = None, thread_ts: str | None = None
) -> Message:
    """A quote as its preview, "Lambert on this"'s with the thread to answer in (`thread_ts`)."""
    if isinstance(reply, QuoteReply) and thread_ts is not None and reply.ranked:
        ids = (ON_THIS_POST, ON_THIS_ANOTHER, on_this_value(reply, thread_ts))
        return preview_message(reply, ids=ids)
    if isinstance(reply, QuoteReply):
        return preview_message(reply, public_url)
    if isinstance(reply, ListReply):
        return list_message(reply)
    return text_message(reply)


def error_message() -> Message:
    return {"text": ERROR_TEXT}


def plain_text(text: str) -> str:
    """The words of a Slack message, its markup and emoji codes dropped, &amp; decoded."""
    text = _EMOJI.sub(" ", _MARKUP.sub(lambda m: f" {m.group(2) or ''} ", text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def on_this_value(reply: QuoteReply, thread_ts: str) -> str:
    """What Post and Another need: the ranked ids, the quote shown, the thread to answer in.
    Ten ids of up to 40 characters and a ts fit the 2,000 characters of a value."""
    return json.dumps({"r": list(reply.ranked), "q": reply.quote.id, "t": thread_ts})


def read_on_this_value(value: str) -> tuple[tuple[str, ...], str, str]:
    """(ranked ids, quote id, thread ts) from on_this_value(); empty for anything else."""
    data = read_json(value, VALUE_LIMIT)
    if not isinstance(data, dict) or not isinstance(data.get("r"), list):
        return (), "", ""
    return tuple(str(i) for i in data["r"]), str_at(data, "q"), str_at(data, "t")
