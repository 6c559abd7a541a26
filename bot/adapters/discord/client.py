"""The Discord adapter: the `/lambert` command tree, served as a ChatPlatform, and deployed."""

from __future__ import annotations

import asyncio
import base64
import logging

import discord
from discord import app_commands

from bot.adapters.discord.daily import CHOICE_CHARS, MAX_CHOICES, Choices, build_daily_group
from bot.adapters.discord.poster import (
    REJECTED,
    DiscordPoster,
    login,
    make_client,
    open_discord_poster,
    token_of,
)
from bot.adapters.discord.shards import ShardedClient, refusal
from bot.adapters.discord.views import ExpiredPreviewButton, Responder, request_context
from bot.chat import grammar as commands
from bot.chat.on_this import on_this
from bot.chat.replies import cut
from bot.config import ConfigError, Settings
from bot.coordination.lease import ShardsTaken
from bot.logs import quiet
from bot.runtime import Core, open_core

log = logging.getLogger(__name__)

COMMAND_NAME = "lambert"
MENU_NAME = "Lambert on this"
AUTOCOMPLETE_BUDGET = 1.5  # seconds; Discord shows nothing for answers after 3
CLOSE_GRACE = 10.0  # seconds close() waits for handlers still answering
CLOSE_TIMEOUT = 5.0  # then for the gateway connection to end
PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
NO_CLIENT_ID = (
    "DISCORD_TOKEN is not set: put the bot token in the environment or .env, "
    "or pass --client-id ID (the Application ID from the Developer Portal)"
)
UNREADABLE_ID = (
    "DISCORD_TOKEN does not start with a bot's user id, so it is not a bot token: copy the "
    "token again from the Developer Portal's Bot page, or pass --client-id ID"
)


def build_tree(client: discord.Client, responder: Responder) -> app_commands.CommandTree:
    """`/lambert [query]`, `/lambert-daily` and "Lambert on this"; it answers and is synced."""
    tree = app_commands.CommandTree(client)

    @tree.command(name=COMMAND_NAME, description="A quote from Nathan Lambert's notes")
    # Also for members who add lambert to their account: Post answers through the interaction.
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(
        query="a theme, words, `search words`, `id ID`, `themes` or `help` (empty: random)"
    )
    async def lambert(interaction: discord.Interaction, query: str | None = None) -> None:
        work = commands.answer(responder.core, query or "", request_context(interaction))
        await responder.respond(interaction, f"/{COMMAND_NAME}", work)

    @lambert.autocomplete("query")
    async def lambert_choices(_: discord.Interaction, typed: str) -> Choices:
        """Themes first, then quote snippets; none rather than an error or a late answer."""
        try:
            async with asyncio.timeout(AUTOCOMPLETE_BUDGET):
                suggestions = await responder.core.quotes.autocomplete(typed, limit=MAX_CHOICES)
        except Exception:
            log.exception("discord: autocomplete failed")
            return []
        return [
            app_commands.Choice(name=cut(s.label, CHOICE_CHARS), value=s.value)
            for s in suggestions
            if 0 < len(s.value) <= CHOICE_CHARS  # a cut value would run something else
        ][:MAX_CHOICES]

    tree.add_command(build_daily_group(responder))

    # A message's menu: the preview of the quote that fits it, whose Post replies under it.
    # The interaction carries the message (no message-content intent); its text is never kept.
    @tree.context_menu(name=MENU_NAME)
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def lambert_on_this(interaction: discord.Interaction, message: discord.Message) -> None:
        work = on_this(responder.core, message.content, request_context(interaction))
        await responder.respond(interaction, MENU_NAME, work, reply_to=message.id)

    @tree.error
    async def on_error(interaction: discord.Interaction, error: Exception) -> None:
        # Failures before our handlers run, e.g. a channel option Discord did not resolve.
        log.error("discord: command failed", exc_info=error)
        await responder.report_failure(interaction, "command")

    return tree


class DiscordPlatform:
    """`lambert serve`'s Discord: the tree on a gateway connection per leased shard."""

    name = "discord"

    def __init__(
        self, settings: Settings, core: Core, *, client: discord.Client | None = None
    ) -> None:
        self.settings = settings
        self.client = client or make_client(shards=settings)
        # Only a sharded client (every `serve`) leases its shards; tests may pass a plain one.
        self.sharded = self.client if isinstance(self.client, ShardedClient) else None
        self.lease = core.leases.shard_lease() if self.sharded and core.leases else None
        self._task: asyncio.Task[None] | None = None
        self._keeping: asyncio.Task[None] | None = None  # renews the shard lease
        self._lost: str | None = None  # why the shards were given up: a lease lost
        self.responder = Responder(core, settings.public_url)
        self.tree = build_tree(self.client, self.responder)
        self.client.add_dynamic_items(ExpiredPreviewButton)
        # The gateway's keep-alive failures and a shard's reconnect attempts as one line each;
        # not discord.client, whose tracebacks are our event handlers' bugs.
        quiet(("discord.gateway", "discord.shard"))

    async def start(self) -> None:
        """One attempt at the first READY: ConfigError for a rejected token, else unreachable."""
        if self.client.is_closed():  # a previous attempt's client: re-open it
            self.client.clear()
            if self.sharded:
                self.sharded.reopen()
            # close() unset the loop, which login() sets again only on a client's first login
            self.client.loop = asyncio.get_running_loop()
            http = self.client.http
            if http.connector is not discord.utils.MISSING and http.connector.closed:
                # closed with the old session; discord.py would reuse it ("Session is closed")
                http.connector = discord.utils.MISSING
        await login(self.client, self.settings)
        if self.sharded:
            await self._lease_shards(self.sharded)
        # Before the first READY a failure ends the task and serve's backoff tries again; after
        # it discord.py's own reconnect RESUMEs the session (no events lost, no start spent).
        # Only a fatal close (a reset token, 4004) or a lost lease ends it: wait_lost.
        self._task = task = asyncio.create_task(
            self.client.connect(reconnect=True), name="discord-gateway"
        )
        ready = asyncio.create_task(self.client.wait_until_ready())
        try:
            await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if not self.client.is_ready() or task.done():
            failure = task.exception() if task.done() and not task.cancelled() else None
            raise ConnectionError(f"the Discord gateway did not get ready: {_ended(failure)}")
        log.info("discord: connected as %s", self.client.user)

    async def _lease_shards(self, client: ShardedClient) -> None:
        """Lease this process's shards, renewed while it runs; ConfigError if another runs one."""
        lease = self.lease
        assert lease is not None
        count, ids = await client.plan()
        application, shown = str(client.application_id), ",".join(map(str, ids))
        if ids != tuple(range(count)) and not self.settings.database_url:
            log.warning(
                "discord: running shards %s of %d without LAMBERT_DATABASE_URL: processes on "
                "other SQLite files cannot see which shards this one runs",
                shown,
                count,
            )
        try:
            await lease.acquire(application, ids, count)
        except ShardsTaken as exc:
            raise ConfigError(refusal(self.settings, application, exc.taken, count)) from None

        async def keep() -> None:
            taken = await lease.keep()
            # Another process runs a shard of ours now: stop answering at once (wait_lost says why).
            self._lost = refusal(self.settings, application, taken, count, lost=True)
            log.error("discord: %s", self._lost)
            await self.client.close()

        self._lost = None
        self._keeping = asyncio.create_task(keep())
        log.info("discord: running shards %s of %d", shown, count)

    @property
    def connected(self) -> bool:
        running = self._task is not None and not self._task.done() and self.client.is_ready()
        if self.sharded:
            shards = self.shards()
            return running and bool(shards) and all(shards.values())
        return running and self.client.ws is not None and self.client.ws.open

    def shards(self) -> dict[int, bool]:
        """Each shard this process runs and whether its connection is open (health, metrics)."""
        running = self._task is not None and not self._task.done()
        shards = sorted(self.sharded.shards.items()) if self.sharded else []
        return {shard: running and not info.is_closed() for shard, info in shards}

    async def wait_lost(self) -> None:
        if self._task is None:
            return
        await asyncio.wait({self._task})
        if self._lost is not None:
            raise ConfigError(self._lost)
        if not self._task.cancelled():
            log.warning(
                "discord: the gateway connection ended (%s)", _ended(self._task.exception())
            )

    def poster(self) -> DiscordPoster:
        return DiscordPoster(self.client, public_url=self.settings.public_url)

    async def close(self) -> None:
        await self.responder.in_flight.drain(CLOSE_GRACE)  # handlers still answering
        await self.client.close()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=CLOSE_TIMEOUT)
            if not done:
                self._task.cancel()
            elif not self._task.cancelled():
                self._task.exception()  # retrieved: it was reported by start() or wait_lost()
            self._task = None
        if self._keeping is not None:
            self._keeping.cancel()
            await asyncio.wait({self._keeping})
            self._keeping = None
        if self.lease is not None:  # after the client closed: never two running one shard
            await self.lease.release()


def _ended(failure: BaseException | None) -> str:
    """What ended the gateway connection; ConfigError if it refused the token (4004)."""
    if failure is None:
        return "closed by Discord"
    if isinstance(failure, discord.ConnectionClosed) and failure.code == 4004:
        raise ConfigError(REJECTED)  # e.g. the token was reset after login
    if isinstance(failure, discord.ConnectionClosed):
        return f"closed with code {failure.code}"
    return f"{type(failure).__name__}: {failure}".splitlines()[0]


def create_platform(settings: Settings, core: Core) -> DiscordPlatform:
    """The Discord platform for `settings`; ConfigError without DISCORD_TOKEN."""
    token_of(settings)
    return DiscordPlatform(settings, core)


async def sync_commands(settings: Settings, guild: int | None = None) -> list[str]:
    """Sync the tree (one server's, or global); the commands synced, as a member finds them."""
    async with open_discord_poster(settings) as poster, open_core(settings) as core:
        tree = build_tree(poster.client, Responder(core))
        target = discord.Object(guild) if guild is not None else None
        if target is not None:
            tree.copy_global_to(guild=target)
        synced = await tree.sync(guild=target)
    slash = discord.AppCommandType.chat_input
    return [f"/{c.name}" if c.type is slash else f"{c.name!r} (message menu)" for c in synced]


def application_id(settings: Settings) -> int:
    """The bot's application id: its user id, the token's first part. Never quotes the token."""
    if not settings.discord_token:
        raise ConfigError(NO_CLIENT_ID)
    first = settings.discord_token.reveal().split(".")[0]
    try:
        digits = base64.b64decode(first + "=" * (-len(first) % 4), b"-_", validate=True)
        user_id = digits.decode("ascii")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ConfigError(UNREADABLE_ID) from None
    if not user_id.isdigit():
        raise ConfigError(UNREADABLE_ID)
    return int(user_id)


def invite_urls(client_id: int) -> tuple[str, str]:
    """The OAuth2 URLs that add `client_id` to a server, and to a member's own apps (no bot)."""
    scopes = ("bot", "applications.commands")
    server = discord.utils.oauth_url(client_id, permissions=PERMISSIONS, scopes=scopes)
    user = discord.utils.oauth_url(client_id, scopes=scopes[1:])
    # discord.py's oauth_url has no integration_type (2.7): guild install 0, user install 1.
    return f"{server}&integration_type=0", f"{user}&integration_type=1"
