"""The App Home tab: a quote of the day, the themes, and (for admins) the daily schedules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.after_ack import Listener, Respond, SlackUser, acked
from bot.adapters.slack.blocks import (
    Block,
    button,
    context,
    mrkdwn,
    quote_blocks,
    section,
    sections,
)
from bot.adapters.slack.modal import CHANGE, is_channel_id
from bot.adapters.slack.payload import channel_key, dict_at, split_key, str_at, workspace_of
from bot.chat.quote_verbs import COMMAND
from bot.daily.service import ChannelStatus
from bot.quotes.models import Quote
from bot.quotes.service import QuoteService

HOME_BLOCKS = 100  # Slack's limit for a home view
SCHEDULE_ROOM = HOME_BLOCKS - 40  # blocks left for schedules after the quote and the themes


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def theme_blocks(quotes: QuoteService) -> list[Block]:
    lines = [
        f"\u2022 *{mrkdwn(i.theme.title, 200)}* \u00b7 {i.count} quote{'' if i.count == 1 else 's'}"
        f" \u00b7 `{COMMAND} {mrkdwn((*i.theme.aliases, i.theme.slug)[0], 100)}`"
        for i in quotes.themes()
    ]
    return [
        _header("Themes"),
        *sections(lines),
        context(mrkdwn(f"{COMMAND} <theme> for a quote on it, {COMMAND} help for the rest.")),
    ]


def schedule_line(quotes: QuoteService, found: ChannelStatus) -> str:
    s = found.schedule
    info = quotes.theme_info(s.theme) if s.theme else None
    theme = mrkdwn(info.theme.title, 200) if info else "any theme"
    where = f"<#{s.channel}>" if is_channel_id(s.channel) else mrkdwn(s.channel, 100)
    head = f"{where} \u00b7 {s.when} \u00b7 {theme}"
    if found.next_post is not None:
        local = found.next_post.astimezone(s.zone)
        return f"{head}\nNext: {local:%a %d %b, %H:%M} {local.tzname()}"
    if s.disabled_reason:
        return f"{head}\nStopped: {mrkdwn(s.disabled_reason, 500)}"
    return f"{head}\nOff"


def schedule_blocks(quotes: QuoteService, schedules: list[ChannelStatus]) -> list[Block]:
    blocks = [_header("Daily quotes (admins only)")]
    shown = schedules[: SCHEDULE_ROOM - 3]
    for found in shown:
        line = section(schedule_line(quotes, found))
        line["accessory"] = button(CHANGE, "Change", found.schedule.channel)
        blocks.append(line)
    if not schedules:
        blocks.append(section("No channel has a daily quote yet."))
    elif len(schedules) > len(shown):
        more = len(schedules) - len(shown)
        blocks.append(context(f"and {more} more: `lambert daily list` shows them all"))
    blocks.append(
        {"type": "actions", "elements": [button(CHANGE, "Set up a channel", "", "primary")]}
    )
    return blocks


def home_view(
    quotes: QuoteService, quote: Quote | None, schedules: list[ChannelStatus] | None
) -> dict[str, Any]:
    """The Home tab; `schedules` only for admins (None hides the section)."""
    blocks: list[Block] = [_header("Quote of the day")]
    blocks += quote_blocks(quote) if quote else [section("The corpus is empty.")]
    blocks += [{"type": "divider"}, *theme_blocks(quotes)]
    if schedules is not None:
        blocks += [{"type": "divider"}, *schedule_blocks(quotes, schedules)]
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}


class HomeTab(Listener):
    @acked("publishing the Home tab")
    async def home_opened(self, body: dict[str, Any], _: Respond, client: AsyncWebClient) -> None:
        event = dict_at(body, "event")
        if event.get("tab") == "home":  # the Messages tab sends this event too
            await self.publish_home(str_at(event, "user"), workspace_of(body), client)

    async def publish_home(self, user_id: str, workspace: str, client: AsyncWebClient) -> None:
        user = SlackUser(client, user_id, self.admins)
        today = self.core.daily.clock.now().astimezone(UTC).date()
        quote = await self.core.quotes.of_the_day(today)  # the web site's too
        schedules = None
        if await user.is_admin():  # this workspace's channels, by their ids
            schedules = [
                replace(s, schedule=replace(s.schedule, channel=split_key(s.schedule.channel)[1]))
                for s in await self.core.daily.overview()
                if s.schedule.platform == "slack"
                and s.schedule.channel.startswith(channel_key(workspace, ""))
            ]
        view = home_view(self.core.quotes, quote, schedules)
        await client.views_publish(user_id=user_id, view=view)
