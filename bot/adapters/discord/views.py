"""Private answers to interactions: the guard every handler runs in, and the quote preview."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import discord

from bot.adapters.discord.embeds import Message, reply_message, shared_message
from bot.adapters.discord.expired import BOOT, PREVIEW_ID
from bot.adapters.discord.pages import Pages
from bot.adapters.discord.poster import base36
from bot.adapters.discord.publish import PostNotConfirmed, publish, replace
from bot.chat import grammar as commands
from bot.chat import on_this
from bot.chat.context import RequestContext
from bot.chat.replies import (
    ANOTHER_LABEL,
    CANCEL_LABEL,
    ERROR_TEXT,
    MAYBE_POSTED,
    POST_LABEL,
    ListReply,
    QuoteReply,
    Reply,
    already_claimed,
)
from bot.chat.stats_verb import place
from bot.runtime import Core
from bot.serving.inflight import InFlight
from bot.web.links import permalink

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFER_AFTER = 2.0  # seconds of work before we defer: Discord drops answers after 3
PREVIEW_TIMEOUT = 600.0  # a preview's buttons work this long, then are shown disabled
CLOSE_GRACE = 10.0  # seconds close() waits for handlers still answering
NOT_YOURS = "These buttons belong to the member who asked. Use /lambert for your own quote."
POSTED = "Posted to the channel."
CANCELLED = "Cancelled."
GONE = "That quote is no longer in the corpus. Try /lambert again."
NOT_PUBLIC = "This channel lets apps answer only you, so the quote was not posted for everyone."


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
    """Answers interactions privately, in time, and never with a traceback; tracks the work."""

    def __init__(
        self,
        core: Core,
        *,
        defer_after: float = DEFER_AFTER,
        preview_timeout: float = PREVIEW_TIMEOUT,
        public_url: str | None = None,
    ) -> None:
        self.core = core
        self.public_url = public_url  # LAMBERT_PUBLIC_URL: a shared quote links its page
        self.defer_after = defer_after
        self.preview_timeout = preview_timeout
        self.in_flight = InFlight()

    @asynccontextmanager
    async def guard(self, interaction: discord.Interaction, what: str) -> AsyncIterator[None]:
        """Tracks the handler for close(); any failure becomes a short private message."""
        with self.in_flight.track():
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

    async def drain(self, grace: float = CLOSE_GRACE) -> None:
        """Wait for handlers still working before the connection closes under them."""
        await self.in_flight.drain(grace)

    async def in_time(self, interaction: discord.Interaction, work: Awaitable[T]) -> T:
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

    async def send(
        self,
        interaction: discord.Interaction,
        message: Message,
        view: discord.ui.View | None = None,
    ) -> None:
        """A private message, or the deferred "thinking" message replaced by it."""
        view_arg: Any = view if view is not None else discord.utils.MISSING
        if interaction.response.is_done():
            await interaction.edit_original_response(
                content=message.content,
                embeds=message.embeds,
                attachments=message.files(),
                view=view_arg,
            )
        else:
            await interaction.response.send_message(
                message.content,
                embeds=message.embeds,
                files=message.files(),
                view=view_arg,
                ephemeral=True,
            )

    async def answer(
        self, interaction: discord.Interaction, reply: Reply, reply_to: int | None = None
    ) -> None:
        """A reply privately; a quote comes as a preview with Post, Another and Cancel (Post
        replying to message `reply_to` when given), a list with further pages with More."""
        view: discord.ui.View | None = None
        if isinstance(reply, QuoteReply):
            view = Preview(self, interaction, reply, reply_to)
        elif isinstance(reply, ListReply) and reply.more:
            view = Pages(self, interaction, reply, request_context(interaction))
        await self.send(interaction, reply_message(reply), view)


class Preview(discord.ui.View):
    """The asker's private preview. Holds the request and the quote shown; for "Lambert on
    this", the ranked ids and the message to reply to (never its text)."""

    def __init__(
        self,
        responder: Responder,
        origin: discord.Interaction,
        reply: QuoteReply,
        reply_to: int | None = None,
    ):
        super().__init__(timeout=responder.preview_timeout)
        self.responder = responder
        self.reply_to = reply_to  # "Lambert on this": the message Post answers under
        self.origin = origin  # its token edits the preview on timeout (valid 15 minutes)
        self.owner_id = origin.user.id
        nonce = secrets.token_hex(4)
        for button, action in (
            (self.post_button, "post"),
            (self.another_button, "another"),
            (self.cancel_button, "cancel"),
        ):
            button.custom_id = PREVIEW_ID.format(boot=BOOT, nonce=nonce, action=action)
        self.show(reply)

    def show(self, reply: QuoteReply) -> None:
        self.request, self.quote_id, self.matches = reply.request, reply.quote.id, reply.matches
        self.card = reply.card
        self.ranked = reply.ranked  # "Lambert on this": Another walks these, not a search
        self.arm(True)

    def arm(self, usable: bool) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = not usable
        if self.matches <= 1:  # Another could only show the same quote again
            self.another_button.disabled = True

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        async with self.responder.guard(interaction, "preview check"):
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    @discord.ui.button(label=POST_LABEL, style=discord.ButtonStyle.primary)
    async def post_button(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Preview]
    ) -> None:
        async with self.responder.guard(interaction, "Post"):
            # The preview is claimed first: a second click, even one that arrives before the
            # buttons are greyed out, finds it taken and posts nothing.
            previews = self.responder.core.previews
            preview_id = f"discord:{self.origin.id}"
            channel = str(interaction.channel_id or "")
            if not await previews.claim(preview_id, "discord", channel, datetime.now(UTC)):
                text = already_claimed(await previews.outcome(preview_id))
                await interaction.response.send_message(text, ephemeral=True)
                return
            self.arm(False)
            await interaction.response.edit_message(view=self)
            message_id, public = None, True
            try:
                quote = await self.responder.core.quotes.quote(self.quote_id)
                if quote is not None:
                    name = interaction.user.display_name
                    # Keyed by the preview: a click again after a lost answer returns the
                    # message Discord already has (enforce_nonce) instead of a second one.
                    nonce = "p" + base36(self.origin.id, 13)
                    url = self.responder.public_url
                    link = permalink(url, quote.id) if url else None
                    message = shared_message(quote, name, card=self.card, link=link)
                    message_id = await publish(interaction, message, nonce, self.reply_to)
                    public = message_id is not None
                    log.info(
                        "discord: shared quote=%s channel=%s user=%s public=%s",
                        quote.id,
                        interaction.channel_id,
                        interaction.user.id,
                        public,
                    )
            except PostNotConfirmed as exc:
                # The claim stays: a click again says the quote may be in the channel, and
                # nothing is sent twice.
                log.warning("discord: the Post in %s is not confirmed: %s", channel, exc)
                self.stop()
                await interaction.edit_original_response(
                    content=MAYBE_POSTED, embeds=[], attachments=[], view=None
                )
                return
            except Exception:
                await previews.release(preview_id)  # the member may try again
                self.arm(True)
                await interaction.edit_original_response(view=self)
                raise
            if quote is None or not public:
                await previews.release(preview_id)
            else:
                await previews.record_posted(preview_id, message_id)
                self.responder.core.stats.posted(place(request_context(interaction)), "preview")
            self.stop()
            note = GONE if quote is None else POSTED if public else NOT_PUBLIC
            await interaction.edit_original_response(
                content=note, embeds=[], attachments=[], view=None
            )

    @discord.ui.button(label=ANOTHER_LABEL, style=discord.ButtonStyle.secondary)
    async def another_button(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Preview]
    ) -> None:
        async with self.responder.guard(interaction, "Another"):
            ctx = request_context(interaction)
            core = self.responder.core
            work = (
                on_this.another(core, self.ranked, self.quote_id, ctx)
                if self.ranked
                else commands.another(core, self.request, self.quote_id, ctx)
            )
            reply = await self.responder.in_time(interaction, work)
            if isinstance(reply, QuoteReply):
                self.show(reply)
            else:
                self.stop()
            await replace(interaction, reply_message(reply), None if self.is_finished() else self)

    @discord.ui.button(label=CANCEL_LABEL, style=discord.ButtonStyle.secondary)
    async def cancel_button(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Preview]
    ) -> None:
        async with self.responder.guard(interaction, "Cancel"):
            self.stop()
            # First a "Cancelled" note without buttons, then delete: if Discord refuses the
            # delete (the member dismissed the message meanwhile), the note is what remains.
            await interaction.response.edit_message(
                content=CANCELLED, embeds=[], attachments=[], view=None
            )
            try:
                await interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.info("discord: cancelled preview not deleted (%s)", exc.status)

    async def on_timeout(self) -> None:
        self.arm(False)
        try:
            await self.origin.edit_original_response(view=self)
        except discord.HTTPException as exc:  # dismissed by the member, or the token expired
            log.info("discord: expired preview not updated (%s)", exc.status)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        log.error("discord: preview button failed", exc_info=error)
        await self.responder.report_failure(interaction, "preview button")
