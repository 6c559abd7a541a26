"""The listeners bolt calls: the command, the preview's buttons, link unfurls; then the rest."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import ClientConnectorError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import blocks
from bot.adapters.slack.after_ack import Ack, Respond, SlackUser, acked
from bot.adapters.slack.blocks import Message, reply_message
from bot.adapters.slack.daily_form import DailyForm
from bot.adapters.slack.modal import change_button
from bot.adapters.slack.oauth import Removals
from bot.adapters.slack.payload import action_value, dict_at, request_context, str_at, workspace_of
from bot.adapters.slack.poster import post_error
from bot.chat import on_this as fitting
from bot.chat.context import RequestContext
from bot.chat.grammar import another, answer
from bot.chat.quote_verbs import COMMAND
from bot.chat.replies import Form, Reply, TextReply
from bot.chat.share import NothingPosted, share_preview
from bot.ports import AmbiguousPostError
from bot.quotes.models import Quote
from bot.runtime import Core
from bot.serving.inflight import InFlight
from bot.web.links import quote_id_in

log = logging.getLogger(__name__)

MAX_LINKS = 5  # Slack sends at most 5 links of a message per event
CLOSE_GRACE = 10.0  # seconds close() waits for answers already being worked on

# chat.postMessage refuses channels the bot is not in (and other people's DMs); the action's
# response_url can still post there, so Post falls back to it instead of failing.
POST_VIA_RESPONSE_URL = {"channel_not_found", "not_in_channel"}
# Seconds a command's answer may take and still travel in its ack: well inside Slack's 3, as
# the ack still has to cross the network; a slow users.info past it goes to the response_url.
ANSWER_BUDGET = 1.5


def _channel_id(body: dict[str, Any]) -> str:
    """The clicked message's channel; '' when a (forged) click names none."""
    return str_at(body, "channel", "id") or str_at(body, "container", "channel_id")


class SlackHandlers(DailyForm, Removals):
    def __init__(
        self,
        core: Core,
        admins: frozenset[str],
        *,
        many: bool = False,
        public_url: str | None = None,
    ) -> None:
        self.core = core
        self.admins = admins
        self.many = many
        self.public_url = public_url  # LAMBERT_PUBLIC_URL: cards show from the web site there
        # Ends the time a command's answer may take and ride in its ack (tests: an event's wait).
        self.budget: Callable[[], Awaitable[Any]] = partial(asyncio.sleep, ANSWER_BUDGET)
        self.in_flight = InFlight()

    async def drain(self, grace: float = CLOSE_GRACE) -> None:
        await self.in_flight.drain(grace)

    def clicked_in(self, body: dict[str, Any]) -> RequestContext:
        """Where a button was clicked (for the stats; no admin check needed)."""
        return request_context(body, _channel_id(body), str_at(body, "user", "id"))

    async def command(
        self, ack: Ack, command: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        """The answer in the ack when it is ready within the budget (bolt sends the ack when
        this returns); else acked empty, with the answer at the response_url when ready."""
        answering = self.in_flight.start(self._answer(command, client), name=f"slack {COMMAND}")
        ending = asyncio.ensure_future(self.budget())
        try:
            await asyncio.wait((answering, ending), return_when=asyncio.FIRST_COMPLETED)
        finally:
            ending.cancel()
        if not answering.done():
            await ack()
            self.after_ack(COMMAND, self._late(answering, respond), respond)
            return
        try:
            message = answering.result()
        except Exception:
            log.exception("slack: %s failed", COMMAND)  # the formatter redacts tokens
            message = blocks.error_message()
        if message is None:
            await ack()  # the form opened: it is the answer
        else:
            await ack(response_type="ephemeral", **message)

    async def _late(self, answering: Awaitable[Message | None], respond: Respond) -> None:
        message = await answering
        if message is not None:
            await respond(response_type="ephemeral", **message)

    async def _answer(self, command: dict[str, Any], client: AsyncWebClient) -> Message | None:
        """The command's answer as a message; None when the daily form opened instead."""
        text, user_id = str_at(command, "text"), str_at(command, "user_id")
        channel = str_at(command, "channel_id")
        user = SlackUser(client, user_id, self.admins)  # users.info once, if at all
        name = str_at(command, "user_name")
        # The admin check is asked only by admin verbs (and `daily` below).
        ctx = request_context(command, channel, user_id, user_name=name, admin=user.is_admin)
        reply = await answer(self.core, text, ctx)
        message = reply_message(reply, self.public_url)
        form = reply.form if isinstance(reply, TextReply) else None
        if form is None or not await user.is_admin():
            return message
        if form is Form.OPEN and await self.open_form(command, client, user, channel, channel):
            return None  # the form is the answer; the text status only if it failed to open
        message["blocks"].append(change_button(channel))
        return message

    @acked("Post")
    async def post(self, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
        await self.share(body, respond, client, action_value(body))

    async def share(
        self,
        body: dict[str, Any],
        respond: Respond,
        client: AsyncWebClient,
        value: str,
        thread_ts: str | None = None,
    ) -> None:
        """Post the quote of `value` ("ID", "card ID") for everyone, in `thread_ts`'s thread."""
        quote_id = value.removeprefix(blocks.CARD_PREFIX)
        card = quote_id != value
        channel = _channel_id(body)
        if not channel:
            log.warning("slack: a Post click named no channel: nothing posted")
            return

        async def send(quote: Quote) -> str | None:
            url = blocks.card_url(self.public_url, quote) if card and self.public_url else None
            name = str_at(body, "user", "name") or str_at(body, "user", "username")
            message = blocks.shared_message(quote, name, url, self.public_url)
            if thread_ts:
                message["thread_ts"] = thread_ts
            try:
                sent = await client.chat_postMessage(
                    channel=channel, unfurl_links=False, unfurl_media=False, **message
                )
            except SlackApiError as exc:
                if exc.response.get("error") in POST_VIA_RESPONSE_URL:
                    await respond(response_type="in_channel", replace_original=False, **message)
                    return None
                if isinstance(post_error(exc.response), AmbiguousPostError):
                    raise  # it may have posted: the claim stays, a click again says so
                raise NothingPosted from exc
            except ClientConnectorError as exc:
                raise NothingPosted from exc  # it never reached Slack
            return str(sent.get("ts") or "") or None

        # The clicked preview: the same for every click on it and for Slack's replays of one.
        user, ts = str_at(body, "user", "id"), str_at(body, "container", "message_ts")
        preview = f"slack:{workspace_of(body)}:{channel}:{user}:{ts}"
        shared = await share_preview(self.core, preview, quote_id, self.clicked_in(body), send)
        if shared.posted:
            await respond(delete_original=True)
        elif shared.kept:  # claimed before: the preview stays
            await respond(response_type="ephemeral", replace_original=False, text=shared.note)
        else:
            await respond(replace_original=True, text=shared.note)

    @acked("Shuffle")
    async def shuffle(self, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
        request, after = blocks.read_shuffle_value(action_value(body))
        await self._replace(another(self.core, request, after, self.clicked_in(body)), respond)

    @acked("More")
    async def more(self, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
        """The next page of a result list in its place: what `/lambert <value>` answers."""
        await self._replace(answer(self.core, action_value(body), self.clicked_in(body)), respond)

    async def _replace(self, reply: Awaitable[Reply], respond: Respond) -> None:
        await respond(replace_original=True, **reply_message(await reply, self.public_url))

    @acked("Cancel")
    async def cancel(self, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
        await respond(delete_original=True)

    @acked("Lambert on this")
    async def on_this(self, body: dict[str, Any], respond: Respond, client: AsyncWebClient) -> None:
        """The message shortcut: the quote fitting the message, previewed privately."""
        message = dict_at(body, "message")
        # A message in a thread is answered in that thread; any other starts one under it.
        thread_ts = str_at(message, "thread_ts") or str_at(message, "ts")
        text = blocks.plain_text(str_at(message, "text"))
        reply = await fitting.on_this(self.core, text, self.clicked_in(body))
        preview = blocks.reply_message(reply, thread_ts=thread_ts)
        await respond(response_type="ephemeral", replace_original=False, **preview)

    @acked("Post")
    async def on_this_post(
        self, body: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        _ranked, quote_id, thread_ts = blocks.read_on_this_value(action_value(body))
        await self.share(body, respond, client, quote_id, thread_ts)

    @acked("Another")
    async def on_this_another(
        self, body: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        ranked, after, thread_ts = blocks.read_on_this_value(action_value(body))
        reply = await fitting.another(self.core, ranked, after, self.clicked_in(body))
        await respond(replace_original=True, **blocks.reply_message(reply, thread_ts=thread_ts))

    @acked("unfurling a link")
    async def link_shared(self, body: dict[str, Any], _: Respond, client: AsyncWebClient) -> None:
        event = dict_at(body, "event")
        site = self.public_url or ""  # registered only with one (app.py)
        unfurls: dict[str, dict[str, Any]] = {}
        for link in list(event.get("links") or [])[:MAX_LINKS]:
            url = str((link or {}).get("url") or "")
            quote_id = quote_id_in(site, url)
            quote = await self.core.quotes.quote(quote_id) if quote_id else None
            if quote is not None:
                card = blocks.card_url(site, quote)
                unfurls[url] = {"blocks": blocks.shared_message(quote, "", card, site)["blocks"]}
        if not unfurls:
            return  # another page of the site (a theme, a search): Slack shows its own preview
        where: dict[str, Any]
        if event.get("unfurl_id") and event.get("source"):  # a message still being composed
            where = {"unfurl_id": event["unfurl_id"], "source": event["source"]}
        else:
            where = {"channel": event.get("channel"), "ts": event.get("message_ts")}
        await client.chat_unfurl(unfurls=unfurls, **where)
