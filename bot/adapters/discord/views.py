"""The private views an answer comes with: the quote preview (whose Post publishes), More."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable
from typing import Any

import aiohttp
import discord

from bot.adapters.discord.answering import BOOT, PREVIEW_ID, Answering
from bot.adapters.discord.embeds import Message, reply_message, shared_message
from bot.adapters.discord.poster import base36
from bot.chat import grammar, on_this
from bot.chat.context import RequestContext
from bot.chat.replies import (
    ANOTHER_LABEL,
    CANCEL_LABEL,
    MORE_LABEL,
    POST_LABEL,
    ListReply,
    QuoteReply,
    Reply,
)
from bot.chat.share import MAYBE_POSTED, NothingPosted, Shared, share_preview
from bot.ports import AmbiguousPostError
from bot.quotes.models import Quote
from bot.web.links import permalink

log = logging.getLogger(__name__)

NOT_YOURS = "These buttons belong to the member who asked. Use /lambert for your own quote."
CANCELLED = "Cancelled."
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


class Responder(Answering):
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


class Private(discord.ui.View):
    """A view only the member who asked can click; greyed out when it times out."""

    what = "view"  # in the log

    def __init__(self, responder: Answering, origin: discord.Interaction) -> None:
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

    def __init__(self, responder: Answering, origin: discord.Interaction, reply: QuoteReply):
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
            link = permalink(url, quote.id) if url else None
            message = shared_message(quote, name, card=self.reply.card, link=link)
            try:
                return await self.publish(interaction, message)
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

    async def publish(self, interaction: discord.Interaction, message: Message) -> str:
        """The message's id, posted by the bot (replying to `reply_to`, pinging nobody), else as a
        followup (no channel permission needed); NothingPosted where only the member sees it."""
        channel_id, guild_id = interaction.channel_id, interaction.guild_id
        # The bot posts itself where the server added the app (guild key "0" of
        # authorizing_integration_owners) and the bot is in it.
        if (
            channel_id is not None
            and guild_id is not None
            and interaction.is_guild_integration()
            and interaction.client.get_guild(guild_id) is not None
        ):
            channel = interaction.client.get_partial_messageable(channel_id, guild_id=guild_id)
            reply: dict[str, Any] = {}
            if self.reply_to is not None:
                reference = discord.MessageReference(
                    message_id=self.reply_to, channel_id=channel_id, fail_if_not_exists=False
                )
                reply = {"reference": reference, "mention_author": False}
            try:
                sent = await channel.send(
                    message.content,
                    embeds=message.embeds,
                    files=message.files(),
                    # Keyed by the preview: a click again after a lost answer returns the
                    # message Discord already has (enforce_nonce) instead of a second one.
                    nonce="p" + base36(self.origin.id, 13),
                    view=message.view() or discord.utils.MISSING,
                    **reply,
                )
                return str(sent.id)
            except discord.Forbidden:
                log.info("discord: no permission to post in %s; posting as a followup", channel_id)
        # Where Discord makes an external app's answers ephemeral (the member may not use one,
        # or it may not send messages), a followup would only be a private copy of the preview.
        followup = None
        if (
            guild_id is None
            or interaction.is_guild_integration()
            or (
                interaction.permissions.use_external_apps
                and interaction.app_permissions.send_messages
            )
        ):
            try:
                followup = await interaction.followup.send(
                    message.content or discord.utils.MISSING,
                    embeds=message.embeds,
                    files=message.files(),
                    view=message.view() or discord.utils.MISSING,
                    wait=True,
                )
            # A followup carries no nonce: one that may have been posted is never sent again.
            # discord.py already tries a 5xx five times; a 4xx or no connection posted nothing.
            except discord.DiscordServerError as exc:
                raise AmbiguousPostError(f"Discord answered {exc.status}") from exc
            except aiohttp.ClientConnectorError:
                raise
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise AmbiguousPostError(f"no answer from Discord ({type(exc).__name__})") from exc
        if followup is None or followup.flags.ephemeral:
            log.info("discord: only the member may see answers in %s", channel_id)
            raise NothingPosted(NOT_PUBLIC)
        return str(followup.id)

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
            # First a "Cancelled" note without buttons, then delete: if Discord refuses the
            # delete (the member dismissed the message meanwhile), the note is what remains.
            await self.responder.show(interaction, Message(CANCELLED), None)
            try:
                await interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.info("discord: cancelled preview not deleted (%s)", exc.status)


class Pages(Private):
    """More under a result list: the page `/lambert <ListReply.more>` would show."""

    what = "result list"

    def __init__(self, responder: Answering, origin: discord.Interaction, reply: ListReply):
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
