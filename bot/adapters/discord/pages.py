"""A private list of search results with a More button while further pages remain."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

import discord

from bot.adapters.discord.embeds import reply_message
from bot.adapters.discord.expired import BOOT, PREVIEW_ID
from bot.adapters.discord.publish import replace
from bot.chat import grammar
from bot.chat.context import RequestContext
from bot.chat.replies import MORE_LABEL, ListReply, Reply
from bot.runtime import Core

log = logging.getLogger(__name__)

T = TypeVar("T")


class Responder(Protocol):
    """What a page needs of views.Responder, which builds it (so this module needs no views)."""

    core: Core
    preview_timeout: float

    def guard(
        self, interaction: discord.Interaction, what: str
    ) -> AbstractAsyncContextManager[None]: ...

    async def in_time(self, interaction: discord.Interaction, work: Awaitable[T]) -> T: ...

    async def report_failure(self, interaction: discord.Interaction, what: str) -> None: ...


class Pages(discord.ui.View):
    """Holds the request for the next page (`ListReply.more`) and nothing else; a click
    replaces the list with that page, the same one `/lambert <more>` would show."""

    def __init__(
        self,
        responder: Responder,
        origin: discord.Interaction,
        reply: ListReply,
        ctx: RequestContext,
    ):
        super().__init__(timeout=responder.preview_timeout)
        self.responder = responder
        self.ctx = ctx  # only the asker can click (interaction_check): the same who and where
        self.origin = origin  # its token greys the button out on timeout (valid 15 minutes)
        self.owner_id = origin.user.id
        nonce = secrets.token_hex(4)
        self.more_button.custom_id = PREVIEW_ID.format(boot=BOOT, nonce=nonce, action="more")
        self.show(reply)

    def show(self, reply: Reply) -> None:
        self.next = reply.more if isinstance(reply, ListReply) else ""
        self.more_button.disabled = not self.next

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id  # a private list: only its asker sees it

    @discord.ui.button(label=MORE_LABEL, style=discord.ButtonStyle.secondary)
    async def more_button(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Pages]
    ) -> None:
        async with self.responder.guard(interaction, "More"):
            work = grammar.answer(self.responder.core, self.next, self.ctx)
            reply = await self.responder.in_time(interaction, work)
            self.show(reply)
            await replace(interaction, reply_message(reply), self)

    async def on_timeout(self) -> None:
        self.more_button.disabled = True
        try:
            await self.origin.edit_original_response(view=self)
        except discord.HTTPException as exc:  # dismissed by the member, or the token expired
            log.info("discord: expired result list not updated (%s)", exc.status)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        log.error("discord: More failed", exc_info=error)
        await self.responder.report_failure(interaction, "More")
