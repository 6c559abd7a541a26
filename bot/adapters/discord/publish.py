"""Where a shared quote goes: the channel as the bot where it is, else through the interaction."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from bot.adapters.discord.embeds import Message
from bot.ports import AmbiguousPostError

log = logging.getLogger(__name__)


async def publish(
    interaction: discord.Interaction, message: Message, nonce: str, reply_to: int | None = None
) -> str | None:
    """The message's id, posted by the bot (replying to `reply_to`, pinging nobody), else as a
    followup (it needs no channel permission; user installs); None where only the member sees
    answers, so nothing was posted for everyone."""
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
        if reply_to is not None:
            reference = discord.MessageReference(
                message_id=reply_to, channel_id=channel_id, fail_if_not_exists=False
            )
            reply = {"reference": reference, "mention_author": False}
        try:
            sent = await channel.send(
                message.content,
                embeds=message.embeds,
                files=message.files(),
                nonce=nonce,
                view=message.view() or discord.utils.MISSING,
                **reply,
            )
            return str(sent.id)
        except discord.Forbidden:
            log.info("discord: no permission to post in %s; posting as a followup", channel_id)
    # In a server that did not add the app, Discord makes an answer ephemeral when the member
    # may not use external apps or the app may not send messages: a followup would be a
    # private copy of the preview. Discord may also make one private (no external apps here).
    only_member = (
        guild_id is not None
        and not interaction.is_guild_integration()
        and not (
            interaction.permissions.use_external_apps and interaction.app_permissions.send_messages
        )
    )
    followup = None if only_member else await _followup(interaction, message)
    if followup is None or followup.flags.ephemeral:
        log.info("discord: only the member may see answers in %s", channel_id)
        return None
    return str(followup.id)


async def _followup(interaction: discord.Interaction, message: Message) -> discord.WebhookMessage:
    """The followup; AmbiguousPostError when it may have been posted but Discord did not say:
    it carries no nonce, so sending it again could post the quote twice. discord.py already
    tries a 5xx five times; a refusal (4xx) or a connection never made posted nothing."""
    try:
        return await interaction.followup.send(
            message.content or discord.utils.MISSING,
            embeds=message.embeds,
            files=message.files(),
            view=message.view() or discord.utils.MISSING,
            wait=True,
        )
    except discord.DiscordServerError as exc:
        raise AmbiguousPostError(f"Discord answered {exc.status}") from exc
    except aiohttp.ClientConnectorError:
        raise
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AmbiguousPostError(f"no answer from Discord ({type(exc).__name__})") from exc
