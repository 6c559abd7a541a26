"""The pure planner: local instants across DST, and what is due at any instant, without sleeping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.daily.days import DayKey, DayRecord, PostStatus
from bot.daily.plan import (
    LOOKBACK_DAYS,
    Action,
    due_posts,
    next_due,
    scheduled_instant,
)
from bot.daily.schedules import (
    DAY_NAMES,
    Schedule,
    ScheduleError,
    day_names,
    days_text,
    parse_days,
)
from tests.support.dst import DST_ROWS

LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
SIX_HOURS = timedelta(hours=6)
MARCH_10 = datetime(2025, 3, 9, 23, 0, tzinfo=UTC)  # midnight starting 2025-03-10 in Berlin


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule(
    hhmm: str = "09:00",
    tz: str = "Europe/Berlin",
    *,
    channel: str = "general",
    set_at: datetime = MARCH_10,
    enabled: bool = True,
) -> Schedule:
    return Schedule("console", channel, time.fromisoformat(hhmm), tz, None, enabled, "t", set_at)


def record(
    s: Schedule,
    day: date,
    status: PostStatus = PostStatus.POSTED,
    next_attempt_at: datetime | None = None,
) -> DayRecord:
    return DayRecord(
        s.platform, s.channel, day, status, "q", None, "busy", 1, next_attempt_at, LONG_AGO
    )


@pytest.mark.parametrize(
    ("tz", "day", "hhmm", "expected"),
    [
        *DST_ROWS,
        ("Europe/Berlin", "2025-01-15", "09:00", "2025-01-15T08:00"),  # winter, CET
        ("Europe/Berlin", "2025-07-15", "09:00", "2025-07-15T07:00"),  # summer, CEST
        ("America/New_York", "2025-03-09", "09:00", "2025-03-09T13:00"),  # after the jump
        ("America/New_York", "2025-11-02", "00:30", "2025-11-02T04:30"),  # before the repeat
        ("Australia/Lord_Howe", "2025-10-05", "02:15", "2025-10-04T15:30"),  # a 30-minute gap
        ("Asia/Kathmandu", "2025-06-01", "09:00", "2025-06-01T03:15"),  # a :45 offset
    ],
)
def test_a_wall_time_maps_to_one_instant(tz: str, day: str, hhmm: str, expected: str) -> None:
    at = scheduled_instant(date.fromisoformat(day), time.fromisoformat(hhmm), ZoneInfo(tz))
    assert at == utc(expected)


@pytest.mark.parametrize(("tz", "day", "hhmm", "expected"), DST_ROWS)
def test_a_dst_day_posts_exactly_once_at_the_right_instant(
    tz: str, day: str, hhmm: str, expected: str
) -> None:
    """A pass every minute through the whole local day (23 or 25 hours), and an hour either
    side of it."""
    zone = ZoneInfo(tz)
    local_day = date.fromisoformat(day)
    start = datetime.combine(local_day, time(0), zone).astimezone(UTC) - timedelta(hours=1)
    s = schedule(hhmm, tz, set_at=start)
    end = datetime.combine(local_day + timedelta(1), time(0), zone).astimezone(UTC)
    records: dict[DayKey, DayRecord] = {}
    posted_at = []
    now = start
    while (now := now + timedelta(minutes=1)) <= end + timedelta(hours=1):
        for due in due_posts(now, [s], records, SIX_HOURS):
            assert due.action is Action.POST, due
            records[(s.platform, s.channel, due.local_date)] = record(s, due.local_date)
            posted_at.append((due.local_date, now))
    assert posted_at == [(local_day, utc(expected))]


@pytest.mark.parametrize(
    ("now", "catchup", "expected"),
    [
        ("2025-03-10T07:59", SIX_HOURS, []),  # 08:59 Berlin: not yet
        ("2025-03-10T08:00", SIX_HOURS, [(Action.POST, "2025-03-10")]),
        ("2025-03-10T13:59", SIX_HOURS, [(Action.POST, "2025-03-10")]),  # 5h59 late: catch up
        ("2025-03-10T14:01", SIX_HOURS, [(Action.MISS, "2025-03-10")]),  # 6h01 late: missed
        ("2025-03-10T08:01", timedelta(0), [(Action.POST, "2025-03-10")]),  # on time, not late
        ("2025-03-10T08:05", timedelta(0), [(Action.MISS, "2025-03-10")]),
        ("2025-03-10T22:59", timedelta(hours=24), [(Action.POST, "2025-03-10")]),  # 23:59
        # After local midnight yesterday is missed, however wide the window.
        ("2025-03-10T23:00", timedelta(hours=24), [(Action.MISS, "2025-03-10")]),
    ],
)
def test_catch_up_within_the_window_and_a_miss_after_it(
    now: str, catchup: timedelta, expected: list[tuple[Action, str]]
) -> None:
    plan = due_posts(utc(now), [schedule()], {}, catchup)
    assert [(d.action, d.local_date.isoformat()) for d in plan] == expected


def test_a_whole_day_down_misses_yesterday_and_posts_today() -> None:
    s = schedule(set_at=utc("2025-03-08T12:00"))
    plan = due_posts(utc("2025-03-10T09:00"), [s], {}, SIX_HOURS)
    assert [(d.action, d.local_date.isoformat()) for d in plan] == [
        (Action.MISS, "2025-03-09"),
        (Action.POST, "2025-03-10"),
    ]


def test_a_schedule_set_after_todays_time_starts_tomorrow() -> None:
    s = schedule(set_at=utc("2025-03-10T09:30"))  # 10:30 Berlin, after today's 09:00
    assert due_posts(utc("2025-03-10T10:00"), [s], {}, SIX_HOURS) == []
    assert next_due(s, utc("2025-03-10T10:00")) == utc("2025-03-11T08:00")
    (due,) = due_posts(utc("2025-03-11T08:00"), [s], {}, SIX_HOURS)
    assert due.action is Action.POST


def test_a_clock_read_before_the_schedule_was_set_finds_nothing_due() -> None:
    """The console's `:time` moved back, `lambert daily tick --at <past instant>`: no slot
    from before the schedule existed posts or is missed; the first due slot is after it."""
    s = schedule(set_at=utc("2025-03-10T09:00"))  # 10:00 Berlin, after today's 09:00
    for earlier in ("2025-03-10T08:00", "2025-03-10T08:30", "2025-03-09T08:00", "2025-03-01T08:00"):
        assert due_posts(utc(earlier), [s], {}, SIX_HOURS) == []
        assert next_due(s, utc(earlier)) == utc("2025-03-11T08:00")
    (due,) = due_posts(utc("2025-03-11T08:00"), [s], {}, SIX_HOURS)
    assert (due.action, due.local_date) == (Action.POST, date(2025, 3, 11))


@given(
    set_at=st.datetimes(datetime(2025, 1, 1), datetime(2026, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    back=st.timedeltas(timedelta(0), timedelta(days=30)),
    ahead=st.timedeltas(timedelta(0), timedelta(days=3)),
    tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Apia"]),
    weekdays=st.integers(1, 127),
)
def test_no_slot_before_the_schedule_was_set_is_ever_planned(
    set_at: datetime, back: timedelta, ahead: timedelta, tz: str, weekdays: int
) -> None:
    s = replace(schedule("07:30", tz, set_at=set_at), weekdays=weekdays)
    for now in (set_at - back, set_at + ahead):
        assert all(d.scheduled_at >= set_at for d in due_posts(now, [s], {}, SIX_HOURS))
        upcoming = next_due(s, now)
        assert upcoming is not None and upcoming >= set_at and upcoming > now


def test_a_day_with_any_record_is_not_due_again() -> None:
    s = schedule()
    now = utc("2025-03-10T08:00")
    for status in (PostStatus.CLAIMED, PostStatus.POSTED, PostStatus.FAILED, PostStatus.UNKNOWN):
        records = {(s.platform, s.channel, date(2025, 3, 10)): record(s, date(2025, 3, 10), status)}
        assert due_posts(now, [s], records, SIX_HOURS) == []


def test_a_transient_failure_is_retried_at_its_time_within_the_day_only() -> None:
    s = schedule()
    day = date(2025, 3, 10)
    retry = record(s, day, PostStatus.RETRYING, next_attempt_at=utc("2025-03-10T08:02"))
    records = {retry.key: retry}
    assert due_posts(utc("2025-03-10T08:01"), [s], records, SIX_HOURS) == []
    (due,) = due_posts(utc("2025-03-10T08:02"), [s], records, SIX_HOURS)
    assert due.action is Action.RETRY
    # The local day is over (00:10 Berlin next day): give up; the new day posts in time.
    plan = due_posts(utc("2025-03-10T23:10"), [s], records, SIX_HOURS)
    assert [(d.action, d.local_date) for d in plan] == [(Action.GIVE_UP, day)]
    off = schedule(enabled=False)
    (due,) = due_posts(utc("2025-03-10T08:02"), [off], records, SIX_HOURS)
    assert due.action is Action.GIVE_UP


ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/Santiago",
    "Africa/Casablanca",
    "UTC",
]


@given(
    tz=st.sampled_from(ZONES),
    day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_every_wall_time_lands_on_its_day_at_it_or_at_the_jump_after_it(
    tz: str, day: date, at: time
) -> None:
    zone = ZoneInfo(tz)
    instant = scheduled_instant(day, at, zone)
    local = instant.astimezone(zone)
    wall = datetime.combine(day, at)
    assert instant.astimezone(zone).date() == day
    if local.replace(tzinfo=None) != wall:  # a gap: the first instant of the new offset
        assert local.replace(tzinfo=None) > wall
        just_before = (instant - timedelta(seconds=1)).astimezone(zone)
        assert just_before.utcoffset() != local.utcoffset()
        assert just_before.replace(tzinfo=None) < wall
    else:  # it exists: the first time it happens
        earlier = (instant - timedelta(hours=3)).astimezone(zone).replace(tzinfo=None)
        assert earlier < wall or earlier.date() < day


def test_a_long_outage_records_each_missed_day_back_to_the_look_back() -> None:
    s = schedule(set_at=utc("2025-02-01T12:00"))
    plan = due_posts(utc("2025-03-20T09:00"), [s], {}, SIX_HOURS)
    assert [(d.action, d.local_date.isoformat()) for d in plan] == [
        *[(Action.MISS, f"2025-03-{day}") for day in range(13, 20)],
        (Action.POST, "2025-03-20"),
    ]
    assert len(plan) == LOOKBACK_DAYS + 1


def test_the_look_back_never_reaches_before_the_schedule_was_set() -> None:
    s = schedule(set_at=utc("2025-03-17T12:00"))  # 13:00 Berlin: the 17th's 09:00 had passed
    plan = due_posts(utc("2025-03-20T09:00"), [s], {}, SIX_HOURS)
    assert [(d.action, d.local_date.isoformat()) for d in plan] == [
        (Action.MISS, "2025-03-18"),
        (Action.MISS, "2025-03-19"),
        (Action.POST, "2025-03-20"),
    ]


def on_days(
    days: str, hhmm: str = "09:00", tz: str = "Europe/Berlin", set_at: datetime = MARCH_10
) -> Schedule:
    return replace(schedule(hhmm, tz, set_at=set_at), weekdays=parse_days(days))


def test_a_weekday_schedule_posts_on_friday_and_waits_over_the_weekend_for_monday() -> None:
    s = on_days("weekdays", set_at=utc("2025-03-14T07:00"))  # 2025-03-14 is a Friday
    assert [d.action for d in due_posts(utc("2025-03-14T08:00"), [s], {}, SIX_HOURS)] == [
        Action.POST
    ]
    friday = {(s.platform, s.channel, date(2025, 3, 14)): record(s, date(2025, 3, 14))}
    for weekend in ("2025-03-15T08:00", "2025-03-16T08:00", "2025-03-16T22:00"):
        assert due_posts(utc(weekend), [s], friday, SIX_HOURS) == []
    monday = utc("2025-03-17T08:00")
    assert next_due(s, utc("2025-03-14T08:01"), taken=friday) == monday


def test_an_outage_over_a_weekend_records_only_the_days_it_posts_on_as_missed() -> None:
    s = on_days("mon,wed,fri", set_at=utc("2025-02-01T12:00"))
    plan = due_posts(utc("2025-03-20T08:00"), [s], {}, SIX_HOURS)  # a Thursday, 09:00 Berlin
    assert [(d.action, d.local_date.strftime("%a %d")) for d in plan] == [
        (Action.MISS, "Fri 14"),
        (Action.MISS, "Mon 17"),
        (Action.MISS, "Wed 19"),
    ]


@pytest.mark.parametrize(("tz", "day", "hhmm", "expected"), DST_ROWS)
def test_the_dst_rows_post_once_on_their_weekday_and_never_on_the_others(
    tz: str, day: str, hhmm: str, expected: str
) -> None:
    weekday = date.fromisoformat(day).strftime("%a").lower()
    every_minute = [utc(expected) + timedelta(minutes=m) for m in range(-90, 180, 5)]
    on = on_days(weekday, hhmm, tz, LONG_AGO)
    posted = {
        (d.local_date, d.scheduled_at)
        for now in every_minute
        for d in due_posts(now, [on], {}, SIX_HOURS)
        if d.action is Action.POST and d.local_date.isoformat() == day
    }
    assert posted == {(date.fromisoformat(day), utc(expected))}
    others = on_days(",".join(n for n in DAY_NAMES if n != weekday), hhmm, tz, LONG_AGO)
    assert not [
        d
        for now in every_minute
        for d in due_posts(now, [others], {}, SIX_HOURS)
        if d.local_date.isoformat() == day
    ]


@pytest.mark.parametrize(
    ("text", "names", "said"),
    [
        ("weekdays", ["mon", "tue", "wed", "thu", "fri"], "weekdays"),
        ("WEEKENDS", ["sat", "sun"], "weekends"),
        ("mon,wed,fri", ["mon", "wed", "fri"], "Mon, Wed, Fri"),
        ("Mon, Wed , Fri", ["mon", "wed", "fri"], "Mon, Wed, Fri"),
        ("mon-fri", ["mon", "tue", "wed", "thu", "fri"], "weekdays"),
        ("fri-mon", ["mon", "fri", "sat", "sun"], "Mon, Fri, Sat, Sun"),
        ("tuesday,thurs", ["tue", "thu"], "Tue, Thu"),
        ("daily", list(DAY_NAMES), "every day"),
        ("Every  Day", list(DAY_NAMES), "every day"),
        ("mon, weekends", ["mon", "sat", "sun"], "Mon, Sat, Sun"),
        ("sat,sun", ["sat", "sun"], "weekends"),
    ],
)
def test_days_of_the_week_are_read_as_people_write_them(
    text: str, names: list[str], said: str
) -> None:
    mask = parse_days(text)
    assert day_names(mask) == names
    assert days_text(mask) == said


@pytest.mark.parametrize("text", ["", ",", "funday", "mo", "x-y", "mon-funday", "9am", "'; --"])
def test_what_is_not_days_of_the_week_says_what_would_work(text: str) -> None:
    with pytest.raises(ScheduleError, match="is not days of the week: use weekdays"):
        parse_days(text)
