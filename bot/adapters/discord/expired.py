"""Buttons of a preview shown before a restart: answered, not left to fail."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import discord

log = logging.getLogger(__name__)

EXPIRED = (
    "This preview is from before lambert restarted, so its buttons no longer work. "
    "Use /lambert again."
)

# A preview's buttons name the process that showed it (bot/adapters/discord/views.py):
# after a restart Discord still shows the old buttons, for up to 15 minutes.
BOOT = secrets.token_hex(4)
PREVIEW_ID = "lambert:preview:{boot}:{nonce}:{action}"


class ExpiredPreviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    # Another process's previews only: this one's are answered by their live Preview.
    template=re.compile(
        PREVIEW_ID.format(boot=f"(?!{BOOT}:)[0-9a-f]+", nonce="[0-9a-f]+", action="[a-z]+")
    ),
):
    """A click on a preview shown before a restart: its Preview (and its state) is gone.

    Rather than let Discord say "This interaction failed", the preview keeps its quote, loses
    its buttons and says what to do. Register with `client.add_dynamic_items`.
    """

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
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
