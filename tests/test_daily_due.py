"""A scheduler pass costs what is due: it reads the rows due by now, counted, on both backends,
and does exactly what planning every schedule would (the planner over everything, compared
pass by pass through days, DST, weekdays, failures, downtime and replays)."""

from __future__ import annotations

import inspect
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.daily import service as service_module
from bot.daily.clock import StoppedClock
from bot.daily.days import Outcome, PostStatus
from bot.daily.plan import LOOKBACK_DAYS, Action, day_end, due_posts, next_due
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import EVERY_DAY, WEEKDAYS, Schedule, tzdata_version
from bot.daily.service import DailyService
from bot.daily.store import DailyStore
from bot.ports import TransientPostError
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.daily import FakeClock, RecordingPoster, running
from tests.support.dst import DST_ROWS
from tests.support.state import daily_store

BERLIN_SEVEN = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
PLATFORMS = ("console",)
CATCHUP = timedelta(hours=6)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def at_nine(channel: str, set_at: datetime, hhmm: str = "09:00", **kw: Any) -> Schedule:
    local = time.fromisoformat(hhmm)
    return Schedule(
        "console", channel, local, kw.pop("tz", "Europe/Berlin"), None, True, "t", set_at, **kw
    )


@pytest.fixture
async def store(core: Core, db_path: Path, backend_url: str | None) -> AsyncIterator[DailyStore]:
    async with daily_store(db_path, backend_url, core.quotes, random.Random(3)) as opened:
        yield opened


def counted(store: DailyStore, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Rows each of the store's read calls returned (its real results, only counted)."""
    rows: Counter[str] = Counter()
    for name, _method in inspect.getmembers(DailyStore, inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue

        async def wrapper(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            found = await getattr(DailyStore, _name)(store, *args, **kwargs)
            if isinstance(found, dict) and _name == "first_pages":
                for source, page in found.items():  # {"due:console": [...], ...}
                    rows[source.partition(":")[0]] += len(page)
            elif isinstance(found, list | dict):
                rows[_name] += len(found)
            return found

        monkeypatch.setattr(store, name, wrapper)
    return rows


def scheduler(quotes: QuoteService, store: DailyStore, now: datetime) -> tuple[Scheduler, Any]:
    clock = FakeClock(now)
    poster = RecordingPoster("console", clock)
    daily = DailyService(store, StoppedClock(now))
    return Scheduler(quotes, daily, {"console": poster}, catchup=CATCHUP), poster


async def tick(quotes: QuoteService, store: DailyStore, now: datetime) -> RecordingPoster:
    run, poster = scheduler(quotes, store, now)
    await run.tick()
    return poster


def schedule_rows(rows: Counter[str]) -> int:
    """Schedule rows read: by a pass's queries, and any full read."""
    return sum(rows[n] for n in ("due", "unplanned", "replayed", "retrying", "schedules"))


async def test_with_ten_thousand_schedules_and_nothing_due_a_pass_reads_no_row(
    store: DailyStore, service: QuoteService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.save_schedules([at_nine(f"c{i:05}", BERLIN_SEVEN) for i in range(10_000)])
    early = [at_nine(f"early{i}", BERLIN_SEVEN - timedelta(hours=1), "07:10") for i in range(7)]
    await store.save_schedules(early)
    rows = counted(store, monkeypatch)

    assert (await tick(service, store, BERLIN_SEVEN)).posts == []  # 07:00 in Berlin
    assert schedule_rows(rows) == 0 and rows["records_since"] == 0

    poster = await tick(service, store, BERLIN_SEVEN + timedelta(minutes=10))  # 07:10
    assert sorted(p.channel for p in poster.posts) == [f"early{i}" for i in range(7)]
    assert schedule_rows(rows) == 7  # the seven due, none of the 10,000

    rows.clear()
    assert (await tick(service, store, BERLIN_SEVEN + timedelta(minutes=20))).posts == []
    assert schedule_rows(rows) == 0  # moved on: due again tomorrow
    daily = DailyService(store, StoppedClock(BERLIN_SEVEN))
    assert await daily.next_due(BERLIN_SEVEN + timedelta(minutes=20), PLATFORMS) == utc(
        "2025-03-10T08:00"
    )


async def test_a_pass_reads_what_is_due_a_page_at_a_time(
    store: DailyStore, service: QuoteService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "PAGE", 10)
    await store.save_schedules([at_nine(f"c{i:02}", BERLIN_SEVEN) for i in range(25)])
    pages: list[int] = []  # the size of each page of due rows read
    first_pages, due = store.first_pages, store.due

    async def first(*args: Any, **kwargs: Any) -> Any:
        found = await first_pages(*args, **kwargs)
        pages.append(len(found["due:console"]))
        return found

    async def then(*args: Any, **kwargs: Any) -> Any:
        found = await due(*args, **kwargs)
        pages.append(len(found))
        return found

    monkeypatch.setattr(store, "first_pages", first)
    monkeypatch.setattr(store, "due", then)
    poster = await tick(service, store, utc("2025-03-10T08:00"))
    assert len(poster.posts) == 25
    assert pages == [10, 10, 5]  # the loop is yielded between pages


async def test_an_enabled_schedule_has_a_next_due_instant_and_a_disabled_one_none(
    store: DailyStore, service: QuoteService
) -> None:
    async def stored() -> dict[str, datetime | None]:
        query = sa.text("SELECT channel, next_due_at FROM daily_schedules")
        async with store.engine.connect() as conn:
            found = {r.channel: r.next_due_at for r in await conn.execute(query)}
        return {
            c: v and (datetime.fromisoformat(v) if isinstance(v, str) else v)
            for c, v in found.items()
        }

    daily = DailyService(store, StoppedClock(BERLIN_SEVEN))
    await daily.turn_on("console", "a", time(9), "Europe/Berlin", None, "op")
    await daily.turn_on("console", "b", time(6), "Europe/Berlin", None, "op", WEEKDAYS)
    # Set at 07:00 on a Monday: 09:00 today; 06:00 has passed, so Tuesday's.
    assert await stored() == {"a": utc("2025-03-10T08:00"), "b": utc("2025-03-11T05:00")}
    await daily.turn_off("console", "a", "op")
    assert (await stored())["a"] is None
    claim = await store.claim("console", "b", date(2025, 3, 11), None, BERLIN_SEVEN)
    assert claim is not None
    gone = Outcome(PostStatus.FAILED, claim.key, BERLIN_SEVEN, claim, "gone", disable=True)
    await store.record(gone)
    assert await stored() == {"a": None, "b": None}


@pytest.mark.parametrize(("tz", "day", "hhmm", "expected"), DST_ROWS)
def test_the_next_due_instant_across_dst_is_the_one_the_planner_posts_at(
    tz: str, day: str, hhmm: str, expected: str
) -> None:
    local_day = date.fromisoformat(day)
    set_at = datetime.combine(local_day - timedelta(1), time(12), UTC)
    schedule = at_nine("c", set_at, hhmm, tz=tz)
    first = next_due(schedule, set_at, inclusive=True)  # set the day before, after its slot
    assert first == utc(expected)
    second = next_due(schedule, first)
    assert second is not None and second.astimezone(ZoneInfo(tz)).date() == local_day + timedelta(1)
    (due,) = due_posts(first, [schedule], {}, CATCHUP)
    assert (due.local_date, due.scheduled_at) == (local_day, first)


def test_a_slot_before_the_schedule_was_set_is_never_due_and_weekdays_are_skipped() -> None:
    set_at = utc("2025-03-07T10:00")  # a Friday, 11:00 in Berlin: 09:00 has passed
    weekdays = at_nine("c", set_at, weekdays=WEEKDAYS)
    assert next_due(weekdays, set_at, inclusive=True) == utc("2025-03-10T08:00")  # Monday
    every = at_nine("c", set_at)
    assert next_due(every, set_at, inclusive=True) == utc("2025-03-08T08:00")
    assert next_due(
        replace(every, set_at=utc("2025-03-08T08:00")), utc("2025-03-08T08:00"), inclusive=True
    ) == utc("2025-03-08T08:00")
    assert next_due(replace(every, enabled=False), set_at) is None


async def test_a_new_zone_database_recomputes_every_schedule_once(
    store: DailyStore, service: QuoteService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.save_schedules([at_nine(f"c{i:02}", BERLIN_SEVEN) for i in range(40)])
    await store.zone_version("1999z")  # as if computed with an older one
    rows = counted(store, monkeypatch)
    await tick(service, store, BERLIN_SEVEN)
    assert (rows["unplanned"], rows["due"]) == (40, 0)  # planned in full once
    assert (await store.zone_version())[0] == tzdata_version()
    rows.clear()
    await tick(service, store, BERLIN_SEVEN)
    assert schedule_rows(rows) == 0


async def test_a_retrying_day_is_given_up_as_its_local_day_ends(
    core: Core, service: QuoteService
) -> None:
    """The pass that gives it up runs at the day's end, as the planner of every schedule
    would on the loop's next pass after midnight."""
    start = utc("2025-03-10T22:00")  # 23:00 in Berlin
    await core.daily.store.save_schedules([at_nine("late", start, "23:30")])
    clock = FakeClock(start)
    poster = RecordingPoster("console", clock)
    poster.failures["late"] = [TransientPostError("down")] * 10
    run = Scheduler(
        service, core.daily.with_clock(clock), {"console": poster}, rescan=timedelta(days=7)
    )
    ends = day_end(date(2025, 3, 10), ZoneInfo("Europe/Berlin"))
    async with running(run, clock) as loop:
        await loop.run_until(ends + timedelta(minutes=1))
    assert ends in clock.requested
    (record,) = (await core.daily.store.records_since(date(2025, 3, 10))).values()
    assert record.status is PostStatus.FAILED
    assert [at for _, at in poster.attempts] == [
        utc(t)
        for t in (
            "2025-03-10T22:30",
            "2025-03-10T22:31",
            "2025-03-10T22:33",
            "2025-03-10T22:37",
            "2025-03-10T22:45",
        )
    ]


ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "UTC",
    "Australia/Lord_Howe",
)


def population(rng: random.Random, start: datetime, n: int) -> list[Schedule]:
    schedules = []
    for i in range(n):
        hhmm = f"{rng.randrange(24):02}:{rng.choice((0, 15, 30, 59)):02}"
        set_at = start + timedelta(hours=rng.uniform(-30, 60))  # some set after the first passes
        days = rng.choice((EVERY_DAY, WEEKDAYS, 0b1000001, 0b0000100))
        schedules.append(at_nine(f"c{i:02}", set_at, hhmm, tz=rng.choice(ZONES), weekdays=days))
    return schedules


async def everything(store: DailyStore, now: datetime) -> set[tuple[Any, ...]]:
    """What planning every schedule at `now` does: how each pass worked before the index."""
    schedules = [s for s in await store.schedules() if s.platform in PLATFORMS]
    since = now.date() - timedelta(LOOKBACK_DAYS + 1)
    found = due_posts(now, schedules, await store.records_since(since), CATCHUP)
    return {(d.action, d.schedule.channel, d.local_date, d.scheduled_at) for d in found}


async def test_a_pass_does_exactly_what_planning_every_schedule_does(
    store: DailyStore, service: QuoteService
) -> None:
    """Passes every 97 minutes over 12 days, with three days down, schedules in zones with DST
    (and half-hour, and a day-skipping history), weekdays, posts that fail and retry, one
    turned off and on, and schedules set after the first passes (replayed days): at each
    pass, what the pass plans is what planning everything plans."""
    rng = random.Random(22)
    start = utc("2025-03-27T00:00")  # the EU switch on the 30th, the US one before
    await store.save_schedules(population(rng, start, 30))
    clock = FakeClock(start)
    poster = RecordingPoster("console", clock)
    for i in range(0, 30, 4):
        poster.failures[f"c{i:02}"] = [TransientPostError("busy"), TimeoutError()] * 3
    for i in range(1, 30, 6):  # told to wait hours: the local day may end first
        poster.failures[f"c{i:02}"] = [TransientPostError("wait", retry_after=4 * 3600)] * 4
    now, compared, actions = start, 0, Counter[Action]()
    while now < start + timedelta(days=12):
        if now.date() == date(2025, 4, 2):
            now += timedelta(days=3)  # down: catch-up and misses after
        if now.date() == date(2025, 3, 29) and now.hour == 12:
            await DailyService(store, StoppedClock(now)).turn_off("console", "c03", "op")
        if now.date() == date(2025, 3, 31) and now.hour == 12:
            on = DailyService(store, StoppedClock(now))
            await on.turn_on("console", "c03", time(13, 30), "America/New_York", None, "op")
        clock.advance_to(now)
        daily = DailyService(store, StoppedClock(now))
        planned = {
            (d.action, d.schedule.channel, d.local_date, d.scheduled_at)
            for d in await daily.due(CATCHUP, PLATFORMS)
        }
        assert planned == await everything(store, now), now
        compared += bool(planned)
        actions.update(action for action, *_ in planned)
        run = Scheduler(service, daily, {"console": poster}, catchup=CATCHUP)
        await run.tick()
        now += timedelta(minutes=97)
    assert compared > 50 and len(poster.posts) > 100
    assert set(actions) == set(Action)  # posts, misses, retries and give-ups all compared
