"""The Discord adapter: the `/lambert` command tree on a discord.Client, run as a ChatPlatform."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from bot.adapters.discord.daily import build_daily_group
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.expired import ExpiredPreviewButton
from bot.adapters.discord.poster import DiscordPoster, make_client, token_of
from bot.adapters.discord.views import Responder, request_context
from bot.chat import grammar as commands
from bot.config import ConfigError, Settings
from bot.quotes.service import QuoteService
from bot.runtime import Core

log = logging.getLogger(__name__)

COMMAND_NAME = "lambert"
AUTOCOMPLETE_BUDGET = 1.5  # seconds; Discord shows nothing for answers after 3
MAX_CHOICES = 25
CHOICE_CHARS = 100  # a choice's name and a string choice's value
CLOSE_TIMEOUT = 5.0


async def query_choices(service: QuoteService, typed: str) -> list[app_commands.Choice[str]]:
    """Themes first, then quote snippets; an empty list rather than an error or a late answer."""
    try:
        async with asyncio.timeout(AUTOCOMPLETE_BUDGET):
            suggestions = await service.autocomplete(typed, limit=MAX_CHOICES)
    except Exception:
        log.exception("discord: autocomplete failed")
        return []
    return [
        app_commands.Choice(name=cut(s.label, CHOICE_CHARS), value=s.value)
        for s in suggestions
        if 0 < len(s.value) <= CHOICE_CHARS  # a cut value would run something else
    ][:MAX_CHOICES]


def build_tree(client: discord.Client, responder: Responder) -> app_commands.CommandTree:
    """`/lambert [query]` and `/lambert-daily`; the same tree answers and is synced."""
    tree = app_commands.CommandTree(client)

    @tree.command(name=COMMAND_NAME, description="A quote from Nathan Lambert's notes")
    @app_commands.describe(
        query="a theme, words, `search words`, `id ID`, `themes` or `help` (empty: random)"
    )
    async def lambert(interaction: discord.Interaction, query: str | None = None) -> None:
        async with responder.guard(interaction, f"/{COMMAND_NAME}"):
            work = commands.answer(responder.core, query or "", request_context(interaction))
            await responder.answer(interaction, await responder.in_time(interaction, work))

    @lambert.autocomplete("query")
    async def lambert_choices(
        _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await query_choices(responder.core.quotes, current)

    tree.add_command(build_daily_group(responder))

    @tree.error
    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # Failures before our handlers run, e.g. a channel option Discord did not resolve.
        log.error("discord: command failed", exc_info=error)
        await responder.report_failure(interaction, "command")

    return tree


class DiscordPlatform:
    """`lambert serve`'s Discord: one gateway connection answering the command tree."""

    name = "discord"

    def __init__(
        self, settings: Settings, core: Core, *, client: discord.Client | None = None
    ) -> None:
        self.settings = settings
        self.client = client or make_client()
        self.responder = Responder(core)
        self.tree = build_tree(self.client, self.responder)
        self.client.add_dynamic_items(ExpiredPreviewButton)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and return on the first READY (commands are synced at deploy, not here)."""
        token = token_of(self.settings)
        self._task = asyncio.create_task(self.client.start(token), name="discord-client")
        ready = asyncio.create_task(self.client.wait_until_ready())
        await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            exc = self._task.exception()
            if isinstance(exc, discord.LoginFailure):
                raise ConfigError("Discord rejected DISCORD_TOKEN") from None
            raise ConfigError(f"Discord connection failed: {exc!r}") from exc
        self._task.add_done_callback(_report_stop)
        log.info("discord: connected as %s", self.client.user)

    def poster(self) -> DiscordPoster:
        return DiscordPoster(self.client)

    async def close(self) -> None:
        await self.responder.drain()
        await self.client.close()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=CLOSE_TIMEOUT)
            self._task = None


def _report_stop(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("discord: the connection stopped", exc_info=task.exception())


def create_platform(settings: Settings, core: Core) -> DiscordPlatform:
    """The Discord platform for `settings`; ConfigError without DISCORD_TOKEN."""
    token_of(settings)
    return DiscordPlatform(settings, core)
