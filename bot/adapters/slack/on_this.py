"""Slack's "Lambert on this": the message shortcut's preview and values. Its payload carries the
message (no history scope needed), whose text is matched, never kept or logged."""

from __future__ import annotations

import json
import re

from bot.adapters.slack.blocks import VALUE_LIMIT, Message, preview_message, reply_message
from bot.adapters.slack.payload import read_json, str_at
from bot.chat.replies import QuoteReply, Reply

SHORTCUT = "lambert_on_this"  # the manifest's callback_id
POST, ANOTHER = "lambert_on_this_post", "lambert_on_this_another"

# Mentions, channel links and special mentions (<@U1>, <#C1|general>, <!here>) name nobody's
# subject; a link <https://...|label> keeps its label.
_MARKUP = re.compile(r"<([@#!][^>]*)>|<[^>|]*\|([^>]*)>|<[^>]*>")
_EMOJI = re.compile(r":[a-z0-9_+'-]+:")  # :joy:, :+1:, :skin-tone-2: are no subject either


def plain_text(text: str) -> str:
    """The words of a Slack message, its markup and emoji codes dropped, &amp; decoded."""
    text = _EMOJI.sub(" ", _MARKUP.sub(lambda m: f" {m.group(2) or ''} ", text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def button_value(reply: QuoteReply, thread_ts: str) -> str:
    """What Post and Another need: the ranked ids, the quote shown, the thread to answer in.
    Ten ids of up to 40 characters and a ts fit the 2,000 characters of a value."""
    return json.dumps({"r": list(reply.ranked), "q": reply.quote.id, "t": thread_ts})


def read_value(value: str) -> tuple[tuple[str, ...], str, str]:
    """(ranked ids, quote id, thread ts) from button_value(); empty for anything else."""
    data = read_json(value, VALUE_LIMIT)
    if not isinstance(data, dict) or not isinstance(data.get("r"), list):
        return (), "", ""
    return tuple(str(i) for i in data["r"]), str_at(data, "q"), str_at(data, "t")


def preview(reply: Reply, thread_ts: str) -> Message:
    """The private preview with Post, Another and Cancel; any other reply as it always looks."""
    if not isinstance(reply, QuoteReply) or not reply.ranked:
        return reply_message(reply)
    return preview_message(reply, ids=(POST, ANOTHER, button_value(reply, thread_ts)))
