"""The daily-quote settings form: its modal, its time zone menu, and reading a submission."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.adapters.slack.blocks import Block, mrkdwn
from bot.adapters.slack.payload import dict_at, read_json, str_at
from bot.daily.schedules import (
    DAY_NAMES,
    EVERY_DAY,
    ScheduleError,
    parse_local_time,
    parse_zone,
    zone_suggestions,
)
from bot.quotes.service import QuoteService

SETTINGS_VIEW = "lambert_daily_settings"  # the modal's callback_id
CHANGE = "lambert_daily_change"  # the button that opens the form; its value is a channel id
CHANNEL_BLOCK, TIME_BLOCK, DAYS_BLOCK, ZONE_BLOCK, THEME_BLOCK = (
    "daily_channel",
    "daily_time",
    "daily_days",
    "daily_zone",
    "daily_theme",
)
CHANNEL, TIME, DAYS, ZONE, THEME = "channel", "time", "days", "zone", "theme"  # action ids
# The day checkboxes: each option's value is the day's short name (schedules.DAY_NAMES).
_DAY_OPTIONS = [
    {"text": {"type": "plain_text", "text": name}, "value": short}
    for name, short in zip(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        DAY_NAMES,
        strict=True,
    )
]
ANY_THEME = "any"
DEFAULT_TIME = "09:00"
OPTIONS_LIMIT = 100  # Slack shows at most 100 options of an external_select
LABEL_LIMIT = 75  # an option's text
THEMES_LIMIT = 99  # a static_select holds 100 options: "Any theme" and these
_TIMEPICKER = re.compile(r"\d{2}:\d{2}")  # what Slack's timepicker sends
_CHANNEL_ID = re.compile(r"[A-Z0-9]{2,20}")


def _plain(text: str, limit: int = LABEL_LIMIT) -> dict[str, Any]:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def is_channel_id(text: str) -> bool:
    """A Slack conversation id (safe to put inside `<#...>` and into a view)."""
    return bool(_CHANNEL_ID.fullmatch(text))


def zone_options(typed: str) -> list[dict[str, Any]]:
    """The zone menu's answer to what the user typed (the core's zone_suggestions)."""
    return [_option(name, name) for name in zone_suggestions(typed, OPTIONS_LIMIT)]


@dataclass(frozen=True, slots=True)
class FormDefaults:
    """What the form shows first: the channel's schedule, or the asker's channel and zone."""

    channel: str
    time_text: str = DEFAULT_TIME
    zone: str | None = None
    theme: str | None = None
    weekdays: int = EVERY_DAY  # the days checked
    status: tuple[str, ...] = ()  # the current schedule, said in a line or two


def _theme_options(quotes: QuoteService) -> list[dict[str, Any]]:
    themes = [_option(f"{i.theme.title} ({i.count})", i.theme.slug) for i in quotes.themes()][
        :THEMES_LIMIT
    ]
    return [_option("Any theme (the whole corpus)", ANY_THEME), *themes]


def _input(block_id: str, label: str, element: dict[str, Any], hint: str = "") -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": _plain(label, 2000)}
    block["element"] = element
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def settings_view(
    quotes: QuoteService, defaults: FormDefaults, origin: str, *, from_home: bool = False
) -> dict[str, Any]:
    """The modal: channel, time, days, zone and theme, pre-filled from `defaults`. `origin` is the
    channel it was opened from, kept to confirm there if the chosen one cannot be reached;
    `from_home`: opened from the Home tab, which is published again once saved."""
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": CHANNEL,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if is_channel_id(defaults.channel) and defaults.channel[0] in "CG":  # not a DM (filter)
        channel["initial_conversation"] = defaults.channel
    timepicker = {"type": "timepicker", "action_id": TIME, "initial_time": defaults.time_text}
    zone: dict[str, Any] = {
        "type": "external_select",
        "action_id": ZONE,
        "min_query_length": 2,
        "placeholder": _plain("Type a city, e.g. Berlin"),
    }
    if defaults.zone:
        zone["initial_option"] = _option(defaults.zone, defaults.zone)
    options = _theme_options(quotes)
    initial = next((o for o in options if o["value"] == defaults.theme), options[0])
    theme = {
        "type": "static_select",
        "action_id": THEME,
        "options": options,
        "initial_option": initial,
    }
    days = {
        "type": "checkboxes",
        "action_id": DAYS,
        "options": _DAY_OPTIONS,
        # Slack refuses an empty initial_options: a schedule always has a day (a mask > 0).
        "initial_options": [o for n, o in enumerate(_DAY_OPTIONS) if defaults.weekdays >> n & 1],
    }
    blocks: list[Block] = []
    if defaults.status:
        text = mrkdwn("\n".join(defaults.status))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    blocks += [
        _input(CHANNEL_BLOCK, "Channel", channel, "Invite @lambert there first."),
        _input(TIME_BLOCK, "Time", timepicker),
        _input(DAYS_BLOCK, "Days", days),
        _input(ZONE_BLOCK, "Time zone", zone),
        _input(THEME_BLOCK, "Theme", theme),
    ]
    return {
        "type": "modal",
        "callback_id": SETTINGS_VIEW,
        "title": _plain("Daily quote", 24),
        "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": json.dumps(
            {"origin": origin if is_channel_id(origin) else "", "home": from_home}
        ),
        "blocks": blocks,
    }


@dataclass(frozen=True, slots=True)
class Submission:
    """A submitted form, as text (a forged submission can hold anything)."""

    channel: str
    time_text: str
    zone: str
    theme: str  # a theme slug, or ANY_THEME
    days: tuple[str, ...] = ()  # the checked days' values (DAY_NAMES)
    origin: str = ""
    from_home: bool = False


@dataclass(frozen=True, slots=True)
class Chosen:
    """A submission that can be saved, its values typed (what daily_verbs.turn_on takes)."""

    local_time: time
    tz: str
    theme: str | None  # a slug; None for the whole corpus
    weekdays: int = EVERY_DAY  # a mask, bit 0 Monday


def read_submission(view: dict[str, Any]) -> Submission:
    """The form's values from a view_submission's `view` (missing ones read as '')."""
    values = dict_at(view, "state", "values")

    def value(block: str, action: str) -> dict[str, Any]:
        return dict_at(values, block, action)

    def option(block: str, action: str) -> str:
        return str_at(value(block, action), "selected_option", "value")

    checked_days = value(DAYS_BLOCK, DAYS).get("selected_options")
    days = tuple(
        str_at(o, "value") for o in (checked_days if isinstance(checked_days, list) else ())
    )
    meta = read_json(view.get("private_metadata") or "{}")
    origin = str_at(meta, "origin")
    return Submission(
        channel=str_at(value(CHANNEL_BLOCK, CHANNEL), "selected_conversation"),
        time_text=str_at(value(TIME_BLOCK, TIME), "selected_time"),
        zone=option(ZONE_BLOCK, ZONE),
        theme=option(THEME_BLOCK, THEME),
        days=days,
        origin=origin if is_channel_id(origin) else "",
        from_home=isinstance(meta, dict) and meta.get("home") is True,
    )


def checked(form: Submission, quotes: QuoteService) -> Chosen | dict[str, str]:
    """The submission's typed values, else inline errors by block id (Slack's response_action
    "errors")."""
    errors: dict[str, str] = {}
    local_time, tz = time(), ""
    if not is_channel_id(form.channel):
        errors[CHANNEL_BLOCK] = "Pick a channel."
    elif form.channel.startswith("D"):  # a direct message: no channel for everyone to read
        errors[CHANNEL_BLOCK] = "Pick a channel: a direct message cannot take the daily quote."
    if not _TIMEPICKER.fullmatch(form.time_text):
        errors[TIME_BLOCK] = "Pick a time, e.g. 09:00."
    else:
        try:
            local_time = parse_local_time(form.time_text)
        except ScheduleError:
            errors[TIME_BLOCK] = (
                f"{form.time_text} is not a time of day: pick one from 00:00 to 23:59."
            )
    try:
        tz = parse_zone(form.zone)
    except ScheduleError:
        errors[ZONE_BLOCK] = "Pick a time zone from the list, e.g. Europe/Berlin."
    if form.theme != ANY_THEME and quotes.theme_info(form.theme) is None:
        errors[THEME_BLOCK] = "Pick a theme from the list."
    weekdays = sum(1 << DAY_NAMES.index(d) for d in set(form.days) if d in DAY_NAMES)
    if not form.days:
        errors[DAYS_BLOCK] = "Pick at least one day."
    elif not set(form.days) <= set(DAY_NAMES):
        errors[DAYS_BLOCK] = "Pick days from the list."
    theme = None if form.theme == ANY_THEME else form.theme
    return errors or Chosen(local_time, tz, theme, weekdays)


def change_button(channel: str) -> Block:
    """An actions block with the button that opens the form for `channel`."""
    return {
        "type": "actions",
        "block_id": "lambert_daily",
        "elements": [
            {
                "type": "button",
                "action_id": CHANGE,
                "text": _plain("Change"),
                "value": channel if is_channel_id(channel) else "",
            }
        ],
    }


def known_zone(zone: str | None) -> str | None:
    """`zone` when the schedule accepts it (a Slack profile's tz), else None."""
    try:
        return parse_zone(zone) if zone else None
    except ScheduleError:
        return None
