"""Where a shared quote goes: the channel, as the bot, where a server added it; else through
the interaction (user installs in DMs, group DMs and servers without the bot)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from bot.adapters.discord.embeds import Message
from bot.ports import AmbiguousPostError

log = logging.getLogger(__name__)


def bot_is_here(interaction: discord.Interaction) -> bool:
    """Whether the bot itself may post in the interaction's channel: the server added the app
    (its id under the guild key "0" of authorizing_integration_owners) and the bot is in it.
    Elsewhere (DMs, group DMs, servers where only the member added lambert to their account)
    only the interaction can answer."""
    guild_id = interaction.guild_id
    return (
        guild_id is not None
        and interaction.is_guild_integration()
        and interaction.client.get_guild(guild_id) is not None
    )


def answers_only_the_member(interaction: discord.Interaction) -> bool:
    """Whether Discord would make a public answer ephemeral here: in a server that did not add
    the app (an external app there), when the member may not use external apps or the app may
    not send messages."""
    if interaction.guild_id is None or interaction.is_guild_integration():
        return False  # DMs and group DMs allow the user's apps; a server's own app is no guest
    return not (
        interaction.permissions.use_external_apps and interaction.app_permissions.send_messages
    )


async def publish(
    interaction: discord.Interaction, message: Message, nonce: str, reply_to: int | None = None
) -> str | None:
    """Post in the interaction's channel: as the bot where it is in the server, else (and where
    the bot may not post) through the interaction. The message's id; None where Discord lets
    apps answer only the member, so nothing was posted for everyone.

    A followup goes through the interaction's webhook, which needs no channel permission, so
    Post still works in channels the bot was not given Send Messages in, and for user installs.
    With `reply_to` ("Lambert on this") the bot's message replies to that message of the
    channel, pinging nobody, its author included; a followup cannot reply, so it goes plain.
    """
    channel_id = interaction.channel_id
    if channel_id is not None and bot_is_here(interaction):
        channel = interaction.client.get_partial_messageable(
            channel_id, guild_id=interaction.guild_id
        )
        try:
            reply: dict[str, Any] = {}
            if reply_to is not None:
                reply = {
                    "reference": discord.MessageReference(
                        message_id=reply_to, channel_id=channel_id, fail_if_not_exists=False
                    ),
                    "mention_author": False,  # allowed_mentions.replied_user: false
                }
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
    # Where Discord lets apps answer only the member, a followup would be an ephemeral copy of
    # the preview; Discord may also make one private (the channel forbids external apps).
    only_member = answers_only_the_member(interaction)
    followup = None if only_member else await _followup(interaction, message)
    if followup is None or followup.flags.ephemeral:
        log.info("discord: only the member may see answers in %s", channel_id)
        return None
    return str(followup.id)


async def _followup(interaction: discord.Interaction, message: Message) -> discord.WebhookMessage:
    """The followup; AmbiguousPostError when it may have been posted but Discord did not say:
    a followup carries no nonce (a channel message does), so sending it again could post the
    quote twice.

    discord.py already tries a 5xx again (up to five times): one that still fails, or a
    connection lost after the request went out, may have left a message in the channel.
    A refusal (4xx) or a connection never made posted nothing and is raised as it is.
    """
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
