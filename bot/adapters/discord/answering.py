"""Answering an interaction privately, in time, never with a traceback; the work tracked."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import discord

from bot.adapters.discord.embeds import Message
from bot.chat.replies import ERROR_TEXT
from bot.runtime import Core
from bot.serving.inflight import InFlight

log = logging.getLogger(__name__)
T = TypeVar("T")
CLOSE_GRACE = 10.0  # seconds close() waits for handlers still answering
EXPIRED = (
    "This preview is from before lambert restarted, so its buttons no longer work. "
    "Use /lambert again."
)
# A preview's buttons name the process that showed it (views.py): after a restart Discord
# still shows the old buttons, for up to 15 minutes.
BOOT = secrets.token_hex(4)
PREVIEW_ID = "lambert:preview:{boot}:{nonce}:{action}"


class Answering:
    """What every handler and view answers through (views.Responder adds the views)."""

    defer_after = 2.0  # seconds of work before we defer: Discord drops answers after 3
    preview_timeout = 600.0  # a preview's buttons work this long, then are shown disabled

    def __init__(self, core: Core, public_url: str | None = None) -> None:
        self.core = core
        self.public_url = public_url  # LAMBERT_PUBLIC_URL: a shared quote links its page
        self.in_flight = InFlight()  # close() drains it

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
