"""A channel's daily schedule (local time, days, zone, theme), its input checks, the zone data."""

from __future__ import annotations

import difflib
import functools
import importlib
import operator
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

ECHO_CHARS = 40  # user text quoted back in an error is cut here
# 09:00, 9:00, 9, 9am, 9 a.m., 9:30 pm, 21h, 21h30, 21.30 (the spaces are squeezed out first)
_TIME = re.compile(r"(?P<h>\d{1,2})(?:(?P<sep>[:.h])(?P<m>\d{2}))?(?P<suffix>[ap]\.?m\.?|h)?")
TIME_FORMATS = "09:00, 9am, 9:30 pm, 21h or 21.30"
# Entries of the zone database that are not places: they would mean "wherever the server is".
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})

# Weekdays as a bit mask, Monday bit 0 (date.weekday()): one small integer column.
EVERY_DAY = 0b1111111
WEEKDAYS = 0b0011111
WEEKENDS = 0b1100000
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS = {"weekdays": WEEKDAYS, "weekends": WEEKENDS}
_DAY_WORDS |= dict.fromkeys(("daily", "every day", "everyday"), EVERY_DAY)
# What a days menu offers first (Discord's autocomplete): each parses as it reads.
DAYS_SUGGESTED = ("weekdays", "weekends", "every day", "mon,wed,fri")
DAYS_FORMATS = "weekdays, weekends, mon,wed,fri or mon-fri"


class ScheduleError(Exception):
    """Input a schedule cannot use; the message says what is wrong and shows what would work."""


def _echo(text: str) -> str:
    cut = text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "\u2026"
    return f"\u201c{cut}\u201d"


def parse_local_time(text: str) -> time:
    """A time of day in any of TIME_FORMATS; anything else is a ScheduleError."""
    match = _TIME.fullmatch("".join(text.split()).casefold())
    suffix = (match["suffix"] or "").replace(".", "") if match else ""
    try:  # time() refuses an hour past 23 or a minute past 59
        if match is None or (suffix == "h" and match["sep"] == "h"):  # "21h30h"
            raise ValueError
        hour = int(match["h"])
        if suffix in ("am", "pm"):  # 12am is midnight; 0am or 13pm is no time (24 is refused)
            hour = hour % 12 + (12 if suffix == "pm" else 0) if 1 <= hour <= 12 else 24
        return time(hour, int(match["m"] or 0))
    except ValueError:
        raise ScheduleError(
            f"{_echo(text)} is not a time of day: use e.g. {TIME_FORMATS}."
        ) from None


def _day_number(word: str) -> int | None:  # "wed", "wedn" or "wednesday"; not "we"
    for number, (short, full) in enumerate(zip(DAY_NAMES, FULL_DAY_NAMES, strict=True)):
        if len(word) >= 3 and full.startswith(word) and word.startswith(short):
            return number
    return None


def looks_like_days(text: str) -> bool:
    """Whether `text` is meant as days of the week (so `daily on 9am mon,fri` reads it so)."""
    first = text.strip().casefold().replace("-", ",").split(",")[0]
    return first in _DAY_WORDS or _day_number(first) is not None


def parse_days(text: str) -> int:
    """Days of the week in any of DAYS_FORMATS (any case; ranges wrap: fri-mon), as a mask."""
    words = " ".join(text.split()).casefold()
    parts = [words] if words in _DAY_WORDS else "".join(words.split()).split(",")
    masks = [_days_of(part) for part in parts if part]
    if not masks or not all(masks):
        raise ScheduleError(f"{_echo(text)} is not days of the week: use {DAYS_FORMATS}.")
    return functools.reduce(operator.or_, masks)


def _days_of(part: str) -> int:  # "weekends", a day or a range of days; 0 when none
    first, _, last = part.partition("-")
    start, end = _day_number(first), _day_number(last or first)
    if part in _DAY_WORDS or start is None or end is None:
        return _DAY_WORDS.get(part, 0)
    return sum(1 << (start + offset) % 7 for offset in range((end - start) % 7 + 1))


def days_text(mask: int) -> str:
    """How people say the days: "every day", "weekdays", "weekends" or "Mon, Wed, Fri"."""
    named = {EVERY_DAY: "every day", WEEKDAYS: "weekdays", WEEKENDS: "weekends"}
    return named.get(mask) or ", ".join(d.title() for d in day_names(mask))


def day_names(mask: int) -> list[str]:  # for JSON: ["mon", "wed", "fri"]
    return [d for n, d in enumerate(DAY_NAMES) if mask >> n & 1]


def parse_schedule(time_text: str, zone_text: str, days_text: str = "") -> tuple[time, str, int]:
    """(time, canonical zone, weekday mask); no days: every day."""
    local_time = parse_local_time(time_text)
    weekdays = parse_days(days_text) if days_text.strip() else EVERY_DAY
    return local_time, parse_zone(zone_text), weekdays


@functools.lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones() - _NOT_PLACES}


def parse_zone(text: str) -> str:
    """The canonical IANA name for `text` (any case, spaces for underscores as people type
    them), e.g. `europe/berlin` -> `Europe/Berlin`, `america/new york` -> `America/New_York`."""
    names, folded = _zone_names(), "_".join(text.split()).casefold()
    if (name := names.get(folded)) is None:
        close = difflib.get_close_matches(folded, names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(names[c] for c in close)}?" if close else ""
        raise ScheduleError(
            f"{_echo(text)} is not a time zone: use an IANA name such as Europe/Berlin, "
            f"America/New_York or UTC.{hint}"
        )
    return name


@functools.lru_cache(maxsize=1)
def tzdata_version() -> str:
    """The IANA version of the zone data zoneinfo reads (e.g. "2025b"), so due instants follow
    a new one: the system's first, as zoneinfo reads its TZPATH before the tzdata package."""
    for folder in map(Path, zoneinfo.TZPATH):
        if not (folder / "UTC").is_file():
            continue
        for name in ("tzdata.zi", "+VERSION"):
            try:
                first = (folder / name).read_text(encoding="utf-8").splitlines()[0]
            except (OSError, IndexError, UnicodeDecodeError):
                continue
            return first.removeprefix("# version").strip()
        return f"unknown ({folder})"
    try:
        package = importlib.import_module("tzdata")  # zoneinfo's fallback
    except ImportError:
        return "unknown"
    return f"tzdata {getattr(package, 'IANA_VERSION', 'unknown')}"


def zone_suggestions(typed: str, limit: int) -> list[str]:
    """At most `limit` zones for what is typed so far (Discord's autocomplete, Slack's zone
    menu): the zone of that name, then zones with a part starting with it (`berl` ->
    Europe/Berlin), then any containing it. Nothing typed: the first zones by name."""
    wanted = "_".join(typed.split()).casefold()

    def rank(folded: str) -> int:
        if folded == wanted:
            return 0
        if any(part.startswith(wanted) for part in (folded, *folded.split("/"))):
            return 1
        return 2 if wanted in folded else 3

    ranked = sorted((rank(folded), name) for folded, name in _zone_names().items())
    return [name for r, name in ranked if r < 3][:limit]


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
    weekdays: int = EVERY_DAY  # a mask of the days it posts on (bit 0 Monday)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def time_text(self) -> str:
        return self.local_time.strftime("%H:%M")

    def posts_on(self, day: date) -> bool:
        return bool(self.weekdays >> day.weekday() & 1)

    @property
    def when(self) -> str:  # "every day at 09:00 Europe/Berlin", "weekdays at ..."
        return f"{days_text(self.weekdays)} at {self.time_text} {self.tz}"

    @property
    def where(self) -> str:  # how logs and the CLI name the channel: `slack/C0GENERAL`
        return f"{self.platform}/{self.channel}"
