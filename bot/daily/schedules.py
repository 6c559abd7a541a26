"""A channel's daily schedule (which local time, which zone, which theme) and its input checks."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

ECHO_CHARS = 40  # user text quoted back in an error is cut here
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
# Entries of the zone database that are not places: they would mean "wherever the server is".
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


class ScheduleError(Exception):
    """Input a schedule cannot use; the message says what is wrong and shows what would work."""


def _echo(text: str) -> str:
    cut = text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "\u2026"
    return f"\u201c{cut}\u201d"


def parse_local_time(text: str) -> time:
    """`09:00` or `9:00` (24-hour clock) as a time of day; anything else is a ScheduleError."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ScheduleError(
            f"{_echo(text)} is not a time of day: use the 24-hour HH:MM form, e.g. 09:00 or 17:30."
        )
    return time(int(match[1]), int(match[2]))


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones() - _NOT_PLACES}


def parse_zone(text: str) -> str:
    """The canonical IANA name for `text` (any case), e.g. `europe/berlin` -> `Europe/Berlin`."""
    names = _zone_names()
    name = names.get(text.strip().casefold())
    if name is None:
        close = difflib.get_close_matches(text.strip().casefold(), names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(names[c] for c in close)}?" if close else ""
        raise ScheduleError(
            f"{_echo(text)} is not a time zone: use an IANA name such as Europe/Berlin, "
            f"America/New_York or UTC.{hint}"
        )
    return name


@dataclass(frozen=True, slots=True)
class Schedule:
    """One channel's daily quote. `theme` None means the whole corpus."""

    platform: str
    channel: str
    local_time: time
    tz: str
    theme: str | None
    enabled: bool
    set_by: str
    set_at: datetime
    disabled_reason: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def time_text(self) -> str:
        return self.local_time.strftime("%H:%M")

    @property
    def where(self) -> str:
        """How logs and the CLI name the channel, e.g. `slack/C0GENERAL`."""
        return f"{self.platform}/{self.channel}"
