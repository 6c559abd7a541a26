"""What the stats store keeps and reads back: the metrics, the keys counted by, the scopes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

# What a count counts (the `metric` column); `name` and `detail` say which.
COMMAND = "command"  # name: the verb; detail: the outcome (quote, list, text, refused, nothing)
THEME = "theme"  # name: a theme slug whose quote was shown
QUOTE = "quote"  # name: the id of a quote shown
POSTED = "posted"  # name: preview (a preview's Post) or daily


class Place(NamedTuple):
    """Where a count happened. `space` is the workspace or server; '' when not known (a daily
    post knows only its channel: it counts in the space its channel's commands came from)."""

    platform: str
    space: str
    channel: str


class CountKey(NamedTuple):
    day: date  # UTC
    platform: str
    space: str
    channel: str
    metric: str
    name: str
    detail: str


class WordsKey(NamedTuple):
    day: date  # UTC
    platform: str
    space: str
    channel: str
    words: str  # a search's normalised words (bot/stats/words.py)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which counts a summary covers: everything (platform None), one workspace or server
    (channel None), or one channel."""

    platform: str | None = None
    space: str | None = None
    channel: str | None = None
