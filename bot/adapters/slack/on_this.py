"""Slack's "Lambert on this": a message shortcut that previews the quote fitting the message,
whose Post answers in the message's thread. The shortcut's payload carries the message, so
no history scope is needed; its text is matched, never kept, logged or put in a button."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.after_ack import Ack, Respond
from bot.adapters.slack.blocks import VALUE_LIMIT, Message, preview_message, reply_message
from bot.adapters.slack.payload import action_value, dict_at, read_json, str_at
from bot.chat import on_this
from bot.chat.replies import QuoteReply, Reply

if TYPE_CHECKING:
    from bot.adapters.slack.listeners import SlackHandlers

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
    """The private preview: the quote with Post, Another (when there is a next fit) and
    Cancel; any other reply as it always looks (one line when nothing could be matched)."""
    if not isinstance(reply, QuoteReply) or not reply.ranked:
        return reply_message(reply)
    return preview_message(reply, ids=(POST, ANOTHER, button_value(reply, thread_ts)))


class OnThis:
    """The shortcut and its preview's Post and Another, on SlackHandlers' ack-then-work path."""

    def __init__(self, handlers: SlackHandlers) -> None:
        self.handlers = handlers

    async def shortcut(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        await ack()
        self.handlers.after_ack("Lambert on this", self._preview(body, respond), respond)

    async def _preview(self, body: dict[str, Any], respond: Respond) -> None:
        message = dict_at(body, "message")
        # A message in a thread is answered in that thread; any other starts one under it.
        thread_ts = str_at(message, "thread_ts") or str_at(message, "ts")
        text = plain_text(str_at(message, "text"))
        reply = await on_this.on_this(self.handlers.core, text, self.handlers.clicked_in(body))
        await respond(
            response_type="ephemeral", replace_original=False, **preview(reply, thread_ts)
        )

    async def post(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        await ack()
        _ranked, quote_id, thread_ts = read_value(action_value(body))
        work = self.handlers.share(body, respond, client, quote_id, thread_ts or None)
        self.handlers.after_ack("Post", work, respond)

    async def another(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        await ack()
        self.handlers.after_ack("Another", self._another(body, respond), respond)

    async def _another(self, body: dict[str, Any], respond: Respond) -> None:
        ranked, after, thread_ts = read_value(action_value(body))
        ctx = self.handlers.clicked_in(body)
        reply = await on_this.another(self.handlers.core, ranked, after, ctx)
        await respond(replace_original=True, **preview(reply, thread_ts))
