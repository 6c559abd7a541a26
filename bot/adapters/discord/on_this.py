"""Discord's "Lambert on this": a message context-menu command that previews the quote fitting
the message, whose Post replies under it. The interaction carries the message: no
message-content intent is needed, and its text is never kept."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.adapters.discord.views import Responder, request_context
from bot.chat import on_this as chat_on_this

MENU_NAME = "Lambert on this"


def build_on_this_menu(responder: Responder) -> app_commands.ContextMenu:
    """The command, for server and user installs, wherever a message can be right-clicked."""

    async def lambert_on_this(interaction: discord.Interaction, message: discord.Message) -> None:
        async with responder.guard(interaction, MENU_NAME):
            work = chat_on_this.on_this(
                responder.core, message.content, request_context(interaction)
            )
            reply = await responder.in_time(interaction, work)
            await responder.answer(interaction, reply, reply_to=message.id)

    return app_commands.ContextMenu(
        name=MENU_NAME,
        callback=lambert_on_this,
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=True
        ),
    )
