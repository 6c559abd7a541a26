"""Answering an interaction privately and in time, with the views an answer comes with."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import discord

from bot.adapters.discord.embeds import Message, reply_message, shared_message
from bot.adapters.discord.poster import publish
from bot.chat import grammar, on_this
from bot.chat.context import RequestContext
from bot.chat.replies import (
    ANOTHER_LABEL,
    CANCEL_LABEL,
    ERROR_TEXT,
    MORE_LABEL,
    POST_LABEL,
    ListReply,
    QuoteReply,
    Reply,
)
from bot.chat.share import MAYBE_POSTED, NothingPosted, Shared, share_preview
from bot.ports import AmbiguousPostError
from bot.quotes.models import Quote
from bot.runtime import Core
from bot.serving.inflight import InFlight

log = logging.getLogger(__name__)
NOT_YOURS = "These buttons belong to the member who asked. Use /lambert for your own quote."
CANCELLED = "Cancelled."
EXPIRED = (
    "This preview is from before lambert restarted, so its buttons no longer work. "
    "Use /lambert again."
)
# A preview's buttons name the process that showed it: Discord shows them after a restart too.
BOOT = secrets.token_hex(4)
PREVIEW_ID = "lambert:preview:{boot}:{nonce}:{action}"


def request_context(interaction: discord.Interaction) -> RequestContext:
    """Who asked, where; an admin is whoever may manage the server (or is an administrator)."""
    perms = interaction.permissions
    return RequestContext(
        platform="discord",
        channel=str(interaction.channel_id or ""),
        space=str(interaction.guild_id or ""),  # '' in a direct message
        user=str(interaction.user.id),
        user_name=interaction.user.display_name,
        admin=perms.manage_guild or perms.administrator,  # in the interaction: no lookup
    )


class Responder:
    """What every handler and view answers through; never with a traceback, the work tracked."""

    defer_after = 2.0  # seconds of work before we defer: Discord drops answers after 3
    preview_timeout = 600.0  # a preview's buttons work this long, then are shown disabled

    def __init__(self, core: Core, public_url: str | None = None) -> None:
        self.core = core
        self.public_url = public_url  # LAMBERT_PUBLIC_URL: a shared quote links its page
        self.in_flight = InFlight()  # close() drains it

    async def respond(
        self,
        interaction: discord.Interaction,
        what: str,
        work: Awaitable[Reply],
        reply_to: int | None = None,
    ) -> None:
        """`work`'s reply privately, in time, with a quote's preview or a list's More."""
        async with self.guard(interaction, what):
            reply = await self.in_time(interaction, work)
            view: discord.ui.View | None = None
            if isinstance(reply, QuoteReply):
                view = Preview(self, interaction, reply)
                view.reply_to = reply_to
            elif isinstance(reply, ListReply) and reply.more:
                view = Pages(self, interaction, reply)
            await self.show(interaction, reply_message(reply), view)

    @asynccontextmanager
    async def guard(self, interaction: discord.Interaction, what: str) -> AsyncIterator[None]:
        with self.in_flight.track():  # close() drains it; any failure: a short private message
            try:
                yield
            except Exception:
                # Our own logger, not discord's: the root formatter redacts tokens.
                log.exception("discord: %s failed", what)
                await self.report_failure(interaction, what)

    async def report_failure(self, interaction: discord.Interaction, what: str) -> None:
        try:
            if not interaction.response.is_done():
                await interaction.response.send_message(ERROR_TEXT, ephemeral=True)
            elif interaction.type is discord.InteractionType.application_command:
                # Replaces the deferred "thinking..." (or the answer it was about to become).
                await interaction.edit_original_response(content=ERROR_TEXT, embeds=[], view=None)
            else:  # a button: the preview stays, so the member can try again
                await interaction.followup.send(ERROR_TEXT, ephemeral=True)
        except Exception:
            log.exception("discord: could not report the failure of %s", what)

    async def in_time(self, interaction: discord.Interaction, work: Awaitable[Reply]) -> Reply:
        """`work`'s result; if it takes longer than defer_after, defer meanwhile."""
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.defer_after)
            if not done and interaction.type is discord.InteractionType.component:
                await interaction.response.defer()  # the clicked message will be updated
            elif not done:
                await interaction.response.defer(ephemeral=True, thinking=True)
            return await task
        finally:
            task.cancel()  # a no-op once done; stops the work if deferring failed

    async def show(
        self, interaction: discord.Interaction, message: Message, view: discord.ui.View | None
    ) -> None:
        """`message` privately: over the "thinking" or the clicked message, or as the answer."""
        shown: dict[str, Any] = {"content": message.content, "embeds": message.embeds, "view": view}
        if interaction.response.is_done():
            await interaction.edit_original_response(**shown, attachments=message.files())
        elif interaction.type is discord.InteractionType.component:
            await interaction.response.edit_message(**shown, attachments=message.files())
        else:
            shown["view"] = view or discord.utils.MISSING  # a new message: no view is no view
            await interaction.response.send_message(**shown, files=message.files(), ephemeral=True)


class ExpiredPreviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    # Another process's previews only: this one's are answered by their live Preview.
    template=re.compile(
        PREVIEW_ID.format(boot=f"(?!{BOOT}:)[0-9a-f]+", nonce="[0-9a-f]+", action="[a-z]+")
    ),
):
    """A click on a preview from before a restart: EXPIRED, not "This interaction failed"."""

    @classmethod
    async def from_custom_id(
        cls, _: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ExpiredPreviewButton:
        if not isinstance(item, discord.ui.Button):
            raise TypeError(f"not a button: {item!r}")
        return cls(item)

    async def callback(self, interaction: discord.Interaction) -> None:
        log.info("discord: click on a preview from before a restart (%s)", self.custom_id)
        try:
            await interaction.response.edit_message(content=EXPIRED, view=None)
        except discord.HTTPException as exc:
            log.info("discord: expired preview not updated (%s)", exc.status)


class Private(discord.ui.View):
    """A view only the member who asked can click; greyed out when it times out."""

    what = "view"  # in the log

    def __init__(self, responder: Responder, origin: discord.Interaction) -> None:
        super().__init__(timeout=responder.preview_timeout)
        self.responder = responder
        self.origin = origin  # its token greys the buttons out on timeout (valid 15 minutes)
        nonce = secrets.token_hex(4)
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                action = str(item.label).casefold()
                item.custom_id = PREVIEW_ID.format(boot=BOOT, nonce=nonce, action=action)

    def arm(self, usable: bool) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = not usable

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.origin.user.id:
            return True
        async with self.responder.guard(interaction, f"{self.what} check"):
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        self.arm(False)
        try:
            await self.origin.edit_original_response(view=self)
        except discord.HTTPException as exc:  # dismissed by the member, or the token expired
            log.info("discord: expired %s not updated (%s)", self.what, exc.status)

    async def on_error(self, interaction: discord.Interaction, error: Exception, _: Any) -> None:
        log.error("discord: %s button failed", self.what, exc_info=error)
        await self.responder.report_failure(interaction, f"{self.what} button")


class Preview(Private):
    """Post, Another, Cancel under the reply shown (for "Lambert on this", never the text)."""

    what = "preview"

    def __init__(self, responder: Responder, origin: discord.Interaction, reply: QuoteReply):
        super().__init__(responder, origin)
        self.reply_to: int | None = None  # "Lambert on this": the message Post replies under
        self.reply = reply
        self.arm(True)

    def arm(self, usable: bool) -> None:
        super().arm(usable)
        if self.reply.matches <= 1:  # Another could only show the same quote again
            self.another_button.disabled = True

    @discord.ui.button(label=POST_LABEL, style=discord.ButtonStyle.primary)
    async def post_button(self, interaction: discord.Interaction, _: Any) -> None:
        async def send(quote: Quote) -> str:
            # Greyed out once claimed: a second click, even an early one, finds it taken.
            self.arm(False)
            await interaction.response.edit_message(view=self)
            url, name = self.responder.public_url, interaction.user.display_name
            message = shared_message(quote, name, card=self.reply.card, public_url=url)
            try:
                return await publish(interaction, message, self.reply_to, self.origin.id)
            except (AmbiguousPostError, NothingPosted):
                raise  # a followup that may be in the channel; NOT_PUBLIC
            except Exception as exc:
                # Nothing went out, or a resend cannot post twice (the nonce): try again.
                raise NothingPosted from exc

        async with self.responder.guard(interaction, "Post"):
            ctx, preview = request_context(interaction), f"discord:{self.origin.id}"
            try:
                shared = await share_preview(
                    self.responder.core, preview, self.reply.quote.id, ctx, send
                )
            except AmbiguousPostError as exc:
                # The claim stays: a click again says it may be posted, and sends nothing.
                log.warning("discord: the Post in %s is not confirmed: %s", ctx.channel, exc)
                shared = Shared(MAYBE_POSTED)
            except NothingPosted:
                self.arm(True)  # the member may try again
                await interaction.edit_original_response(view=self)
                raise
            if shared.kept:  # claimed before: this click posts nothing
                await interaction.response.send_message(shared.note, ephemeral=True)
                return
            self.stop()
            await self.responder.show(interaction, Message(shared.note), None)

    @discord.ui.button(label=ANOTHER_LABEL, style=discord.ButtonStyle.secondary)
    async def another_button(self, interaction: discord.Interaction, _: Any) -> None:
        async with self.responder.guard(interaction, "Another"):
            ctx, core, shown = request_context(interaction), self.responder.core, self.reply
            work = (
                on_this.another(core, shown.ranked, shown.quote.id, ctx)
                if shown.ranked  # "Lambert on this": Another walks these, not a search
                else grammar.another(core, shown.request, shown.quote.id, ctx)
            )
            reply = await self.responder.in_time(interaction, work)
            if isinstance(reply, QuoteReply):
                self.reply = reply
                self.arm(True)
            else:
                self.stop()
            view = None if self.is_finished() else self
            await self.responder.show(interaction, reply_message(reply), view)

    @discord.ui.button(label=CANCEL_LABEL, style=discord.ButtonStyle.secondary)
    async def cancel_button(self, interaction: discord.Interaction, _: Any) -> None:
        async with self.responder.guard(interaction, "Cancel"):
            self.stop()
            # A note without buttons first: if the member dismissed the message, it remains.
            await self.responder.show(interaction, Message(CANCELLED), None)
            try:
                await interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.info("discord: cancelled preview not deleted (%s)", exc.status)


class Pages(Private):
    """More under a result list: the page `/lambert <ListReply.more>` would show."""

    what = "result list"

    def __init__(self, responder: Responder, origin: discord.Interaction, reply: ListReply):
        super().__init__(responder, origin)
        self.next = reply.more  # the request of the next page: all it holds

    @discord.ui.button(label=MORE_LABEL, style=discord.ButtonStyle.secondary)
    async def more_button(self, interaction: discord.Interaction, _: Any) -> None:
        async with self.responder.guard(interaction, "More"):
            work = grammar.answer(self.responder.core, self.next, request_context(self.origin))
            reply = await self.responder.in_time(interaction, work)
            self.next = reply.more if isinstance(reply, ListReply) else ""
            self.arm(bool(self.next))
            await self.responder.show(interaction, reply_message(reply), self)
