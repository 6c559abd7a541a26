"""Posting to Discord: the daily post and a shared preview, Discord's errors mapped to ours."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, TextIO

import aiohttp
import discord
from discord.utils import MISSING

from bot.adapters.discord.embeds import Message, daily_message
from bot.adapters.discord.shards import ShardedClient
from bot.chat.share import NothingPosted
from bot.config import ConfigError, Settings
from bot.ports import POST_DEADLINE, AmbiguousPostError, PermanentPostError, TransientPostError
from bot.quotes.models import Quote

log = logging.getLogger(__name__)

# discord.py waits out a 429 itself, up to this many seconds (30 is its minimum); a longer wait
# raises RateLimited, which goes back to the scheduler so one channel never holds up the rest.
MAX_RATE_LIMIT_WAIT = 30.0
# Discord dedupes a nonce "in the past few minutes": resends of a lost answer only within this.
NONCE_WINDOW = 120.0
# One warning for a REST call unanswered this long: discord.py itself waits 300 s.
SLOW_REST_SECONDS = 30.0
REJECTED = (
    "Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again from the "
    "Developer Portal (Bot > Reset Token) into DISCORD_TOKEN"
)
NOT_PUBLIC = "This channel lets apps answer only you, so the quote was not posted for everyone."
LOGIN_HELP = (
    "DISCORD_TOKEN is not set: put the bot token in the environment or .env "
    "(see config.example.env)"
)


def make_client(*, shards: Settings | None = None, **options: Any) -> discord.Client:
    """The bot's client: guild events only, never a mention; sharded with `shards` (serving)."""
    # The bot never joins voice: discord.py's "voice will NOT be supported" warnings are noise.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    options = {
        "intents": discord.Intents(guilds=True),
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": MAX_RATE_LIMIT_WAIT,
        "http_trace": slow_rest_warnings(SLOW_REST_SECONDS),
        **options,  # tests pass guild_ready_timeout
    }
    if shards is None:
        return discord.Client(**options)
    return ShardedClient(
        shard_count=shards.discord_shard_count, shard_ids=shards.discord_shard_ids, **options
    )


def slow_rest_warnings(after: float) -> aiohttp.TraceConfig:
    """discord.py's `http_trace`: a warning for each REST call unanswered after `after` s."""
    trace = aiohttp.TraceConfig()

    async def started(_: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        # Ids and names are short; an interaction's or a webhook's token is not.
        route = "/".join(p if len(p) <= 20 else "{token}" for p in params.url.parts[1:])
        context.slow = asyncio.get_running_loop().call_later(
            after,
            log.warning,
            "discord: %s %s has had no answer for %g s; Discord's API may be hung",
            params.method,
            route,
            after,
        )

    async def ended(_: Any, context: Any, __: Any) -> None:
        if (slow := getattr(context, "slow", None)) is not None:
            slow.cancel()

    trace.on_request_start.append(started)
    trace.on_request_end.append(ended)
    trace.on_request_exception.append(ended)
    return trace


def base36(n: int, width: int) -> str:
    digits = ""
    while n:
        n, digit = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits.rjust(width, "0")


def daily_nonce(channel_id: int, day: date) -> str:
    """18 characters (Discord allows 25) of fixed width (2**64 < 36**13): one per (channel, day)."""
    return base36(channel_id, 13) + base36(day.toordinal(), 5)


def token_of(settings: Settings) -> str:
    if not settings.discord_token:
        raise ConfigError(LOGIN_HELP)
    return settings.discord_token.reveal()


async def login(
    client: discord.Client, settings: Settings, deadline: float = POST_DEADLINE
) -> None:
    """Log in over REST: ConfigError if rejected, ConnectionError if unanswered in `deadline`."""
    try:
        async with asyncio.timeout(deadline):
            await client.login(token_of(settings))
    except TimeoutError:
        raise ConnectionError(f"Discord did not answer the login within {deadline:g} s") from None
    except discord.LoginFailure:
        raise ConfigError(REJECTED) from None


class DiscordPoster:
    """The DailyPoster over one logged-in client, with or without the gateway."""

    platform = "discord"
    # Discord allows 50 requests/s per bot and a message takes ~150-250 ms: 8 at once is ~50/s.
    # More would only be 429s, which count towards the invalid-request ban (10,000 in 10 min).
    max_in_flight = 8
    # A send unanswered by then may have posted: resent with the same nonce (in POST_DEADLINE).
    timeout = 15.0

    def __init__(self, client: discord.Client, *, public_url: str | None = None) -> None:
        self.client = client
        self.public_url = public_url  # LAMBERT_PUBLIC_URL: each post links its page there

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        if not (channel.isascii() and channel.isdigit() and 0 < int(channel) < 2**64):
            raise PermanentPostError("channel not found")
        channel_id = int(channel)
        message = daily_message(quote, self.public_url)
        # discord.py sends enforce_nonce with every nonce: a resend of this day's post within
        # Discord's window returns the first message instead of posting a second.
        nonce = daily_nonce(channel_id, day)
        try:
            async with asyncio.timeout(self.timeout):
                sent = await self.client.get_partial_messageable(channel_id).send(
                    message.content,
                    embeds=message.embeds,
                    nonce=nonce,
                    view=message.view() or MISSING,
                )
        except discord.Forbidden as exc:
            raise PermanentPostError("no permission to post in this channel") from exc
        except discord.NotFound as exc:
            raise PermanentPostError("channel not found") from exc
        except discord.RateLimited as exc:
            raise TransientPostError(
                f"Discord rate limit: retry in {exc.retry_after:g} s", retry_after=exc.retry_after
            ) from exc
        except discord.HTTPException as exc:
            if exc.status >= 500:  # Discord (or its edge) may have stored it first
                raise AmbiguousPostError(
                    f"Discord error {exc.status} ({exc.code})", resend_within=NONCE_WINDOW
                ) from exc
            raise TransientPostError(f"Discord error {exc.status} ({exc.code})") from exc
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            raise TransientPostError(f"could not reach Discord ({type(exc).__name__})") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:  # it may have gone out
            raise AmbiguousPostError(
                f"no answer from Discord ({type(exc).__name__})", resend_within=NONCE_WINDOW
            ) from exc
        return str(sent.id)


async def publish(
    interaction: discord.Interaction, message: Message, reply_to: int | None, preview: int
) -> str:
    """A preview's message posted, by the bot (replying to `reply_to`, pinging nobody), else as
    a followup (no channel permission needed); NothingPosted where only the member sees it."""
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
                # Keyed by the preview: a click again after a lost answer returns the
                # message Discord already has (enforce_nonce) instead of a second one.
                nonce="p" + base36(preview, 13),
                view=message.view() or MISSING,
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
        or (interaction.permissions.use_external_apps and interaction.app_permissions.send_messages)
    ):
        try:
            followup = await interaction.followup.send(
                message.content or MISSING,
                embeds=message.embeds,
                files=message.files(),
                view=message.view() or MISSING,
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


@asynccontextmanager
async def open_discord_poster(
    settings: Settings, stream: TextIO | None = None, *, deadline: float = POST_DEADLINE
) -> AsyncIterator[DiscordPoster]:
    """A poster on a client logged in over REST only, for `daily tick` and `discord sync`."""
    client = make_client()
    try:
        await login(client, settings, deadline)
        yield DiscordPoster(client, public_url=settings.public_url)
    finally:
        await client.close()
