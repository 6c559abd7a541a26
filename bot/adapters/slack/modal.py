"""The daily-quote settings form: its modal, its time zone menu, and reading a submission."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any, TypeVar

from bot.adapters.slack.blocks import Block, button, context, mrkdwn, plain
from bot.adapters.slack.payload import dict_at, read_json, str_at
from bot.daily import schedules
from bot.daily.schedules import DAY_NAMES, EVERY_DAY, Schedule, ScheduleError, parse_zone
from bot.quotes.service import QuoteService

T = TypeVar("T")

SETTINGS_VIEW = "lambert_daily_settings"  # the modal's callback_id
CHANGE = "lambert_daily_change"  # the button that opens the form; its value is a channel id
CHANNEL, TIME, DAYS, ZONE, THEME = "channel", "time", "days", "zone", "theme"  # action ids
CHANNEL_BLOCK, TIME_BLOCK, DAYS_BLOCK, ZONE_BLOCK, THEME_BLOCK = (
    f"daily_{action}" for action in (CHANNEL, TIME, DAYS, ZONE, THEME)
)
ANY_THEME = "any"
DEFAULT_TIME = "09:00"
OPTIONS_LIMIT = 100  # Slack shows at most 100 options of an external_select
THEMES_LIMIT = 99  # a static_select holds 100 options: "Any theme" and these
_TIMEPICKER = re.compile(r"\d{2}:\d{2}")  # what Slack's timepicker sends
_CHANNEL_ID = re.compile(r"[A-Z0-9]{2,20}")


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": plain(label), "value": value}


_DAY_OPTIONS = [  # each value is the day's short name (schedules.DAY_NAMES)
    _option(name.title(), short)
    for short, name in zip(DAY_NAMES, schedules.FULL_DAY_NAMES, strict=True)
]


def is_channel_id(text: str) -> bool:  # so safe to put inside `<#...>` and into a view
    return bool(_CHANNEL_ID.fullmatch(text))


def zone_options(typed: str) -> list[dict[str, Any]]:
    return [_option(name, name) for name in schedules.zone_suggestions(typed, OPTIONS_LIMIT)]


def _input(action: str, label: str, kind: str, **element: Any) -> Block:
    block: Block = {"type": "input", "block_id": f"daily_{action}", "label": plain(label, 2000)}
    return block | {"element": {"type": kind, "action_id": action, **element}}


def settings_view(
    quotes: QuoteService,
    channel_id: str,
    origin: str,
    found: Schedule | None = None,
    zone_name: str | None = None,
    status: tuple[str, ...] = (),
    *,
    from_home: bool = False,
) -> dict[str, Any]:
    """The modal, pre-filled from `found` (said in the lines `status`), else for `channel_id`
    in `zone_name`. `origin`: where to confirm if the chosen channel cannot be reached;
    `from_home`: the Home tab is published again once saved."""
    channel: dict[str, Any] = {"filter": {"include": ["public", "private"]}}
    channel["filter"]["exclude_bot_users"] = True
    if is_channel_id(channel_id) and channel_id[0] in "CG":  # not a DM (filter)
        channel["initial_conversation"] = channel_id
    zone: dict[str, Any] = {"min_query_length": 2, "placeholder": plain("Type a city, e.g. Berlin")}
    if zone_name := found.tz if found else zone_name:
        zone["initial_option"] = _option(zone_name, zone_name)
    themes = [_option(f"{i.theme.title} ({i.count})", i.theme.slug) for i in quotes.themes()]
    themes = [_option("Any theme (the whole corpus)", ANY_THEME), *themes[:THEMES_LIMIT]]
    theme = next((o for o in themes if found and o["value"] == found.theme), themes[0])
    # Slack refuses an empty initial_options: a schedule always has a day (a mask > 0).
    weekdays = found.weekdays if found else EVERY_DAY
    days = [o for n, o in enumerate(_DAY_OPTIONS) if weekdays >> n & 1]
    blocks = [context(mrkdwn("\n".join(status)))] if status else []
    blocks += [
        _input(CHANNEL, "Channel", "conversations_select", **channel)
        | {"hint": plain("Invite @lambert there first.")},
        _input(TIME, "Time", "timepicker", initial_time=found.time_text if found else DEFAULT_TIME),
        _input(DAYS, "Days", "checkboxes", options=_DAY_OPTIONS, initial_options=days),
        _input(ZONE, "Time zone", "external_select", **zone),
        _input(THEME, "Theme", "static_select", options=themes, initial_option=theme),
    ]
    return {
        "type": "modal",
        "callback_id": SETTINGS_VIEW,
        "title": plain("Daily quote", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(
            {"origin": origin if is_channel_id(origin) else "", "home": from_home}
        ),
        "blocks": blocks,
    }


@dataclass(frozen=True, slots=True)
class Submission:
    """A form that can be saved, its values typed as daily_verbs.turn_on takes them."""

    channel: str
    local_time: time
    tz: str
    theme: str | None  # a slug; None for the whole corpus
    weekdays: int = EVERY_DAY  # a mask, bit 0 Monday
    origin: str = ""  # the channel the form was opened from
    from_home: bool = False


def read_submission(view: dict[str, Any], quotes: QuoteService) -> Submission | dict[str, str]:
    """A view_submission's `view` as values to save, else inline errors by block id; a
    forged submission can hold anything, missing values read as ''."""
    values = dict_at(view, "state", "values")

    def value(action: str, *keys: str) -> str:
        return str_at(dict_at(values, f"daily_{action}", action), *keys)

    channel, time_text = value(CHANNEL, "selected_conversation"), value(TIME, "selected_time")
    theme = value(THEME, "selected_option", "value")
    boxes = dict_at(values, DAYS_BLOCK, DAYS).get("selected_options")
    days = {str_at(o, "value") for o in (boxes if isinstance(boxes, list) else ())}
    errors: dict[str, str] = {}
    if not is_channel_id(channel):
        errors[CHANNEL_BLOCK] = "Pick a channel."
    elif channel.startswith("D"):  # a direct message: no channel for everyone to read
        errors[CHANNEL_BLOCK] = "Pick a channel: a direct message cannot take the daily quote."
    if (local_time := valid(schedules.parse_local_time, time_text)) is None:
        errors[TIME_BLOCK] = f"{time_text} is not a time of day: pick one from 00:00 to 23:59."
    if not _TIMEPICKER.fullmatch(time_text):
        errors[TIME_BLOCK] = "Pick a time, e.g. 09:00."
    if not days:
        errors[DAYS_BLOCK] = "Pick at least one day."
    elif not days <= set(DAY_NAMES):
        errors[DAYS_BLOCK] = "Pick days from the list."
    if (tz := valid(parse_zone, value(ZONE, "selected_option", "value"))) is None:
        errors[ZONE_BLOCK] = "Pick a time zone from the list, e.g. Europe/Berlin."
    if theme != ANY_THEME and quotes.theme_info(theme) is None:
        errors[THEME_BLOCK] = "Pick a theme from the list."
    if errors or local_time is None or tz is None:
        return errors
    meta = read_json(view.get("private_metadata") or "{}")
    origin = str_at(meta, "origin")
    return Submission(
        channel,
        local_time,
        tz,
        None if theme == ANY_THEME else theme,
        sum(1 << DAY_NAMES.index(d) for d in days),
        origin if is_channel_id(origin) else "",
        isinstance(meta, dict) and meta.get("home") is True,
    )


def valid(parse: Callable[[str], T], text: str) -> T | None:
    try:
        return parse(text)
    except ScheduleError:
        return None


def change_button(channel: str) -> Block:
    change = button(CHANGE, "Change", channel if is_channel_id(channel) else "")
    return {"type": "actions", "block_id": "lambert_daily", "elements": [change]}
