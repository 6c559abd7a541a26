"""`/lambert-daily set|off|status`: options passed to the daily verbs as they are, no text."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from functools import partial

import discord
from discord import app_commands

from bot.adapters.discord.views import Responder, request_context
from bot.chat import daily_verbs, grammar
from bot.chat.context import RequestContext
from bot.chat.replies import Reply, cut
from bot.daily.schedules import (
    DAYS_FORMATS,
    DAYS_SUGGESTED,
    ScheduleError,
    days_text,
    parse_days,
    zone_suggestions,
)
from bot.runtime import Core

GROUP_NAME = "lambert-daily"
MAX_CHOICES = 25
CHOICE_CHARS = 100  # a choice's name and a string choice's value
Action = Callable[[Core, RequestContext], Awaitable[Reply]]
Choices = list[app_commands.Choice[str]]
Here = discord.TextChannel | None  # a channel option: None for the one asked in


def build_daily_group(responder: Responder) -> app_commands.Group:
    """For servers that added the bot (it posts there itself), shown to Manage Server members;
    the grammar re-checks each subcommand as its text form (`status` is anyone's)."""
    group = app_commands.Group(
        name=GROUP_NAME,
        description="A quote posted every day in a channel (Manage Server)",
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
        default_permissions=discord.Permissions(manage_guild=True),
    )

    async def run(
        interaction: discord.Interaction, channel: Here, action: Action, words: str
    ) -> None:
        """`action` in `channel` (default: here), under the rule of `/lambert daily <words>`."""
        channel_id = channel.id if channel is not None else (interaction.channel_id or 0)
        ctx = dataclasses.replace(request_context(interaction), channel=str(channel_id))
        core = responder.core
        work = grammar.perform("daily", ctx, lambda: action(core, ctx), core, words)
        await responder.respond(interaction, f"/{GROUP_NAME}", work)

    @group.command(name="set", description="Post a quote every day at a local time")
    @app_commands.describe(
        channel="where to post",
        time="e.g. 09:00, 9am, 9:30 pm, 21h",
        timezone="IANA time zone, e.g. Europe/Berlin",
        theme="only quotes of this theme (default: any)",
        days=f"{DAYS_FORMATS} (default: every day)",
    )
    async def set_daily(
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str,
        theme: str | None = None,
        days: str | None = None,
    ) -> None:
        on = partial(daily_verbs.turn_on_text, time_text=time, zone_text=timezone)
        await run(interaction, channel, partial(on, theme_text=theme, days_text=days), "on")

    @set_daily.autocomplete("timezone")
    async def zone_choices(_: discord.Interaction, typed: str) -> Choices:
        return [app_commands.Choice(name=n, value=n) for n in zone_suggestions(typed, MAX_CHOICES)]

    @set_daily.autocomplete("days")
    async def days_choices(_: discord.Interaction, typed: str) -> Choices:
        """What is typed, if it reads as days ("mon-thu"), then the usual sets starting with it."""
        wanted = " ".join(typed.split()).casefold()
        try:
            mask = parse_days(typed) if wanted and wanted not in DAYS_SUGGESTED else 0
        except ScheduleError:
            mask = 0
        # The typed days go back as the value, which Discord caps like a name.
        said = (
            [(cut(days_text(mask), CHOICE_CHARS), wanted)]
            if mask and len(wanted) <= CHOICE_CHARS
            else []
        )
        said += [(days, days) for days in DAYS_SUGGESTED if days.startswith(wanted)]
        return [app_commands.Choice(name=name, value=value) for name, value in said][:MAX_CHOICES]

    @set_daily.autocomplete("theme")
    async def theme_choices(_: discord.Interaction, current: str) -> Choices:
        return [
            app_commands.Choice(
                name=cut(f"{info.theme.title} ({info.count})", CHOICE_CHARS), value=info.theme.slug
            )
            for info, _ in responder.core.quotes.themes_matching(current)
        ][:MAX_CHOICES]

    @group.command(name="off", description="Stop a channel's daily quote")
    @app_commands.describe(channel="which channel (default: this one)")
    async def off(interaction: discord.Interaction, channel: Here = None) -> None:
        await run(interaction, channel, daily_verbs.turn_off, "off")

    @group.command(name="status", description="When and what a channel's daily quote posts")
    @app_commands.describe(channel="which channel (default: this one)")
    async def status(interaction: discord.Interaction, channel: Here = None) -> None:
        await run(interaction, channel, daily_verbs.status, "status")

    return group
