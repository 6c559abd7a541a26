"""`/lambert-daily set|off|status`: options turned into the shared `daily` grammar's text."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.adapters.discord.embeds import cut
from bot.adapters.discord.views import Responder, request_context
from bot.chat import grammar as commands

GROUP_NAME = "lambert-daily"
MAX_CHOICES = 25
CHOICE_CHARS = 100
# Entries of the zone database that are not places (the core refuses them too).
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones() - NOT_PLACES))


def zone_choices(typed: str) -> list[app_commands.Choice[str]]:
    """IANA zones for what is typed: names starting with it, then names containing it."""
    needle = "_".join(typed.split()).casefold()  # "new york" finds America/New_York
    starts, contains = [], []
    for name in zone_names():
        folded = name.casefold()
        if folded.startswith(needle) or folded.partition("/")[2].startswith(needle):
            starts.append(name)
        elif needle in folded:
            contains.append(name)
    return [app_commands.Choice(name=n, value=n) for n in (starts + contains)[:MAX_CHOICES]]


def daily_text(verb: str, *words: str | None) -> str:
    """The grammar's text, e.g. `daily on 09:00 Europe/Berlin dpo`; blanks are left out."""
    return " ".join(["daily", verb, *(w for w in words if w and w.strip())])


def admin_context(interaction: discord.Interaction, channel_id: int) -> commands.RequestContext:
    """The asker's context, aimed at the channel the schedule is for."""
    return dataclasses.replace(request_context(interaction), channel=str(channel_id))


def build_daily_group(responder: Responder) -> app_commands.Group:
    """The group; Discord shows it to Manage Server members by default, the core re-checks."""
    group = app_commands.Group(
        name=GROUP_NAME,
        description="A quote posted every day in a channel (Manage Server)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    async def run(interaction: discord.Interaction, text: str, channel_id: int) -> None:
        async with responder.guard(interaction, f"/{GROUP_NAME}"):
            ctx = admin_context(interaction, channel_id)
            work = commands.answer(responder.service, text, ctx)
            await responder.answer(interaction, await responder.in_time(interaction, work))

    def here(interaction: discord.Interaction, channel: discord.TextChannel | None) -> int:
        return channel.id if channel is not None else (interaction.channel_id or 0)

    @group.command(name="set", description="Post a quote every day at a local time")
    @app_commands.describe(
        channel="where to post",
        time="24-hour HH:MM, e.g. 09:00",
        timezone="IANA time zone, e.g. Europe/Berlin",
        theme="only quotes of this theme (default: any)",
    )
    async def set_daily(
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str,
        theme: str | None = None,
    ) -> None:
        # A space inside the time or zone would shift the grammar's words; IANA names have
        # underscores where people type spaces ("America/New York").
        text = daily_text("on", "".join(time.split()), "_".join(timezone.split()), theme)
        await run(interaction, text, channel.id)

    @set_daily.autocomplete("timezone")
    async def timezone_choices(
        _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @set_daily.autocomplete("theme")
    async def theme_choices(
        _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(
                name=cut(f"{info.theme.title} ({info.count})", CHOICE_CHARS), value=info.theme.slug
            )
            for info, _ in responder.service.themes_matching(current)
        ][:MAX_CHOICES]

    @group.command(name="off", description="Stop a channel's daily quote")
    @app_commands.describe(channel="which channel (default: this one)")
    async def off(
        interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        await run(interaction, daily_text("off"), here(interaction, channel))

    @group.command(name="status", description="When and what a channel's daily quote posts")
    @app_commands.describe(channel="which channel (default: this one)")
    async def status(
        interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        await run(interaction, daily_text("status"), here(interaction, channel))

    return group
