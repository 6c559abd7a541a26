"""The scheduler loop on a fake clock: days, DST, restarts, catch-up and failures, no sleeping."""

from __future__ import annotations

import ast
import asyncio
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat.grammar import RequestContext, answer
from bot.chat.replies import TextReply
from bot.config import Settings
from bot.daily import scheduler as scheduler_module
from bot.daily.days import PostStatus
from bot.daily.scheduler import Scheduler
from bot.daily.schedules import Schedule
from bot.metrics import reporting_to
from bot.ports import PermanentPostError, TransientPostError
from bot.quotes.service import QuoteService
from bot.runtime import Core, open_core
from bot.serving.probes import PrometheusMetrics
from tests.fakes.daily import FakeClock, RecordingPoster, eventually, running
from tests.support.dst import DST_ROWS
from tests.support.state import daily_store

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
DAY = date(2025, 3, 10)
ADMIN = RequestContext(platform="console", channel="general", user="op", admin=True)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def save(
    core: Core,
    channel: str,
    set_at: datetime,
    hhmm: str = "09:00",
    tz: str = "Europe/Berlin",
) -> None:
    at = time.fromisoformat(hhmm)
    schedule = Schedule("console", channel, at, tz, None, True, "test", set_at)
    await core.daily.store.save_schedules([schedule])


def scheduler(
    core: Core,
    clock: FakeClock,
    poster: RecordingPoster,
    *,
    catchup: timedelta = timedelta(hours=6),
    rescan: timedelta = timedelta(days=7),  # no periodic re-reads in the way
) -> Scheduler:
    return Scheduler(
        core.quotes,
        core.daily.with_clock(clock),
        {"console": poster},
        catchup=catchup,
        rescan=rescan,
    )


async def daily_at(core: Core, clock: FakeClock, text: str, ctx: RequestContext) -> TextReply:
    """`/lambert daily <text>` as chat sends it, read at the test's clock."""
    reply = await answer(replace(core, daily=core.daily.with_clock(clock)), f"daily {text}", ctx)
    assert isinstance(reply, TextReply)
    return reply


def berlin(post_at: datetime) -> tuple[date, time]:
    local = post_at.astimezone(BERLIN)
    return local.date(), local.time()


async def test_thirty_days_post_thirty_times_at_the_local_time(
    core: Core, service: QuoteService
) -> None:
    """Across the March DST change, waking only when a post is due."""
    start = utc("2025-03-15T00:00")
    clock = FakeClock(start)
    poster = RecordingPoster("console", clock)
    await save(core, "general", start)
    async with running(scheduler(core, clock, poster), clock) as loop:
        await loop.run_until(start + timedelta(days=30))

    assert [berlin(p.at) for p in poster.posts] == [
        (date(2025, 3, 15) + timedelta(i), time(9)) for i in range(30)
    ]
    assert len({p.quote_id for p in poster.posts}) == 30
    assert {berlin(w)[1] for w in clock.requested} == {time(9)}  # no polling in between


@pytest.mark.parametrize(("tz", "day", "hhmm", "expected"), DST_ROWS)
async def test_a_dst_day_posts_once_at_the_right_instant(
    core: Core, service: QuoteService, tz: str, day: str, hhmm: str, expected: str
) -> None:
    zone = ZoneInfo(tz)
    local_day = date.fromisoformat(day)
    start = datetime.combine(local_day - timedelta(1), time(12), zone).astimezone(UTC)
    clock = FakeClock(start)
    poster = RecordingPoster("console", clock)
    await save(core, "general", start, hhmm, tz)
    async with running(scheduler(core, clock, poster), clock) as loop:
        await loop.run_until(start + timedelta(days=2))

    dst_day, next_day = poster.posts
    assert dst_day.at == utc(expected)
    assert next_day.at.astimezone(zone).date() == local_day + timedelta(1)


async def test_a_restart_mid_day_does_not_post_again(
    core: Core, service: QuoteService, settings: Settings
) -> None:
    clock = FakeClock(utc("2025-03-10T07:00"))
    poster = RecordingPoster("console", clock)
    await save(core, "general", clock.now())
    async with running(scheduler(core, clock, poster), clock) as loop:
        await loop.run_until(utc("2025-03-10T12:00"))
    assert [p.at for p in poster.posts] == [utc("2025-03-10T08:00")]

    async with open_core(settings) as restarted:  # a new connection, as a new process
        clock = FakeClock(utc("2025-03-10T14:00"))
        again = RecordingPoster("console", clock)
        async with running(scheduler(restarted, clock, again), clock) as loop:
            await loop.run_until(utc("2025-03-11T12:00"))
    assert [p.at for p in again.posts] == [utc("2025-03-11T08:00")]
    assert again.posts[0].quote_id != poster.posts[0].quote_id


@pytest.mark.parametrize(
    ("starts", "posts_at"),
    [
        ("2025-03-10T13:00", ["2025-03-10T13:00", "2025-03-11T08:00"]),  # 5 h late: catch up
        ("2025-03-10T15:00", ["2025-03-11T08:00"]),  # 7 h late: the day is missed
    ],
)
async def test_catch_up_inside_the_window_posts_once_outside_records_a_miss(
    core: Core, service: QuoteService, settings: Settings, starts: str, posts_at: list[str]
) -> None:
    await save(core, "general", utc("2025-03-09T23:00"))  # set at midnight in Berlin
    clock = FakeClock(utc(starts))
    poster = RecordingPoster("console", clock)
    window = timedelta(hours=settings.catchup_hours)
    async with running(scheduler(core, clock, poster, catchup=window), clock) as loop:
        await loop.run_until(utc("2025-03-11T12:00"))

    assert [p.at for p in poster.posts] == [utc(t) for t in posts_at]
    records = await core.daily.store.records_since(date(2025, 3, 10))
    first_day = records[("console", "general", date(2025, 3, 10))]
    missed = len(posts_at) == 1
    assert first_day.status is (PostStatus.MISSED if missed else PostStatus.POSTED)


async def test_a_forbidden_channel_is_disabled_while_the_others_post(
    core: Core,
    service: QuoteService,
) -> None:
    clock = FakeClock(utc("2025-03-10T07:00"))
    poster = RecordingPoster("console", clock)
    poster.failures["gone"] = [PermanentPostError("Missing Access (no permission)")]
    for channel in ("a", "gone", "b"):
        await save(core, channel, clock.now())
    async with running(scheduler(core, clock, poster), clock) as loop:
        await loop.run_until(utc("2025-03-11T12:00"))

    for channel in ("a", "b"):
        assert [p.at for p in poster.channel_posts(channel)] == [
            utc("2025-03-10T08:00"),
            utc("2025-03-11T08:00"),
        ]
    assert [channel for channel, _ in poster.attempts].count("gone") == 1  # never retried
    gone = await core.daily.store.schedule("console", "gone")
    assert gone is not None and not gone.enabled
    assert gone.disabled_reason == "Missing Access (no permission)"
    ctx = RequestContext(platform="console", channel="gone", admin=True)
    status = await daily_at(core, clock, "", ctx)
    assert "Missing Access (no permission)" in "\n".join(status.lines)


async def test_a_transient_failure_is_retried_with_backoff_and_posts_once(
    core: Core,
    service: QuoteService,
) -> None:
    clock = FakeClock(utc("2025-03-10T07:00"))
    poster = RecordingPoster("console", clock)
    poster.failures["general"] = [TransientPostError("rate limited"), TimeoutError()]
    poster.failures["hinted"] = [TransientPostError("slow down", retry_after=600)]
    for channel in ("general", "hinted"):
        await save(core, channel, clock.now())
    async with running(scheduler(core, clock, poster), clock) as loop:
        await loop.run_until(utc("2025-03-10T12:00"))

    tries = [at for channel, at in poster.attempts if channel == "general"]
    assert tries == [utc("2025-03-10T08:00"), utc("2025-03-10T08:01"), utc("2025-03-10T08:03")]
    assert [p.at for p in poster.channel_posts("general")] == [utc("2025-03-10T08:03")]
    assert [p.at for p in poster.channel_posts("hinted")] == [utc("2025-03-10T08:10")]


async def test_a_hanging_channel_never_delays_the_others(core: Core, service: QuoteService) -> None:
    clock = FakeClock(utc("2025-03-10T07:00"))
    poster = RecordingPoster("console", clock)
    poster.gates["slow"] = asyncio.Event()
    for channel in ("slow", "a", "b"):
        await save(core, channel, clock.now())
    run = scheduler(core, clock, poster)
    async with running(run, clock):
        for nine in (utc("2025-03-10T08:00"), utc("2025-03-11T08:00")):
            await eventually(lambda n=nine: clock.next_wake == n, "the wake-up at nine")
            clock.advance_to(nine)
            await eventually(
                lambda n=nine: len([p for p in poster.posts if p.at == n]) == 2, "a, b"
            )
        assert {p.channel for p in poster.posts} == {"a", "b"}
        await eventually(lambda: run.posting == 2, "only the slow channel's two days in flight")
        poster.gates["slow"].set()
        await eventually(lambda: run.posting == 0, "the slow posts")
    assert len(poster.channel_posts("slow")) == 2


async def test_many_channels_due_together_post_concurrently_within_the_bound(
    core: Core,
    service: QuoteService,
) -> None:
    clock = FakeClock(utc("2025-03-10T07:00"))
    poster = RecordingPoster("console", clock, max_in_flight=2)
    poster.gates["*"] = asyncio.Event()
    channels = [f"c{i}" for i in range(6)]
    for channel in channels:
        await save(core, channel, clock.now())
    async with running(scheduler(core, clock, poster), clock) as loop:
        clock.advance_to(await loop.settle())
        await eventually(lambda: poster.active == 2, "two posts in flight")
        for _ in range(20):
            await asyncio.sleep(0)
        assert poster.active == 2
        poster.gates["*"].set()
        await loop.settle()
    assert sorted(p.channel for p in poster.posts) == channels
    assert poster.most_active == 2


async def test_a_change_from_chat_wakes_the_loop_and_another_process_is_seen_on_rescan(
    core: Core, service: QuoteService, settings: Settings
) -> None:
    clock = FakeClock(NOW)
    poster = RecordingPoster("console", clock)
    run = scheduler(core, clock, poster, rescan=timedelta(minutes=5))
    async with running(run, clock) as loop:
        assert await loop.settle() == utc("2025-03-10T07:05")  # nothing scheduled: rescan
        await daily_at(core, clock, "on 09:00 Europe/Berlin", ADMIN)
        assert await loop.settle() == utc("2025-03-10T07:05")
        await daily_at(core, clock, "on 08:02 Europe/Berlin", ADMIN)
        assert await loop.settle() == utc("2025-03-10T07:02")  # woken at once, not at 07:05
        clock.advance_to(utc("2025-03-10T07:02"))
        assert await loop.settle() == utc("2025-03-10T07:07")  # posted; next re-read

        async with daily_store(settings.db_path, None, core.quotes) as other:  # `daily set`
            cli = Schedule("console", "cli", time(8, 4), "Europe/Berlin", None, True, "cli", NOW)
            await other.save_schedules([cli])
        assert await loop.settle() == utc("2025-03-10T07:07")  # no signal crosses processes
        await loop.run_until(utc("2025-03-10T07:10"))
    assert [(p.channel, p.at) for p in poster.posts] == [
        ("general", utc("2025-03-10T07:02")),
        ("cli", utc("2025-03-10T07:07")),  # seen at the re-read, 3 minutes late: caught up
    ]


async def test_the_loop_starts_once(core: Core, service: QuoteService) -> None:
    clock = FakeClock(utc("2025-03-10T07:00"))
    run = scheduler(core, clock, RecordingPoster("console", clock))
    async with running(run, clock) as loop:
        await loop.settle()
        with pytest.raises(RuntimeError, match="already running"):
            await run.run(asyncio.Event())


async def test_a_day_left_while_sending_is_reported_at_start_and_never_reposted(
    core: Core, service: QuoteService, caplog: pytest.LogCaptureFixture
) -> None:
    await save(core, "general", utc("2025-03-09T23:00"))
    history = core.daily.store
    claim = await history.claim("console", "general", date(2025, 3, 10), None, NOW)
    assert claim is not None and await history.start_sending(claim)
    clock = FakeClock(utc("2025-03-10T08:05"))
    poster = RecordingPoster("console", clock)
    with caplog.at_level(logging.WARNING, logger="bot.daily"):
        async with running(scheduler(core, clock, poster), clock) as loop:
            await loop.run_until(utc("2025-03-10T20:00"))
    assert poster.posts == []
    assert "may or may not have gone out" in caplog.text
    status = await daily_at(core, clock, "", ADMIN)
    assert any("unknown for 2025-03-10" in line for line in status.lines)


async def test_a_day_left_while_sending_is_counted_and_reported_unknown_like_any_other(
    core: Core, service: QuoteService
) -> None:
    """Recovery's `unknown` goes through the same counting as a post's: the metric of
    outcomes, and `daily tick --json`'s report."""
    await save(core, "general", utc("2025-03-09T23:00"))
    claim = await core.daily.store.claim("console", "general", DAY, None, NOW)
    assert claim is not None and await core.daily.store.start_sending(claim)
    clock = FakeClock(utc("2025-03-10T08:05"))
    with reporting_to(PrometheusMetrics()) as instruments:
        assert isinstance(instruments, PrometheusMetrics)
        report = await scheduler(core, clock, RecordingPoster("console", clock)).tick()
        counted = instruments.registry.get_sample_value(
            "lambert_daily_posts_total", {"outcome": "unknown"}
        )
    assert counted == 1
    assert report.as_json()["unknown"] == [
        {
            "platform": "console",
            "channel": "general",
            "local_date": "2025-03-10",
            "quote_id": claim.quote_id,
            "reason": "outcome unknown: a process stopped while posting it",
            "disabled": False,
            "retry_at_utc": None,
        }
    ]


async def test_a_live_schedulers_days_are_left_to_it_and_taken_back_once_it_is_gone(
    core: Core, service: QuoteService, caplog: pytest.LogCaptureFixture
) -> None:
    """Two schedulers on one database: while the other holds its worker lease, its claims
    are its own (no false alarm); once it is gone, this one's next pass settles them, with
    no restart. Cancelling the other's tick stands in for its process dying mid-post."""
    for channel in ("a", "b"):
        await save(core, channel, utc("2025-03-09T23:00"))
    due = utc("2025-03-10T08:00")
    other_poster = RecordingPoster("console", FakeClock(due), max_in_flight=1)
    other_poster.gates["*"] = asyncio.Event()  # its first post hangs, the second waits
    other = scheduler(core, FakeClock(due), other_poster)
    other_tick = asyncio.create_task(other.tick())
    await eventually(lambda: other_poster.active == 1, "the other scheduler's post")

    clock = FakeClock(due)
    poster = RecordingPoster("console", clock)
    history = core.daily.store
    with caplog.at_level(logging.INFO, logger="bot.daily"):
        loop_scheduler = scheduler(core, clock, poster, rescan=timedelta(minutes=1))
        async with running(loop_scheduler, clock) as loop:
            await loop.settle()
            held = {r.channel: r.status for r in (await history.records_since(DAY)).values()}
            assert sorted(held.values()) == [PostStatus.CLAIMED, PostStatus.SENDING]
            assert poster.posts == [] and "may or may not" not in caplog.text

            other_tick.cancel()  # gone, mid-post: its lease is released, its rows left
            with pytest.raises(asyncio.CancelledError):
                await other_tick
            await loop.run_until(due + timedelta(minutes=5))

    after = {r.channel: r.status for r in (await history.records_since(DAY)).values()}
    sending = next(c for c, status in held.items() if status is PostStatus.SENDING)
    claimed = next(c for c, status in held.items() if status is PostStatus.CLAIMED)
    assert after == {sending: PostStatus.UNKNOWN, claimed: PostStatus.POSTED}
    assert [(p.channel, p.at) for p in poster.posts] == [(claimed, due + timedelta(minutes=1))]
    assert f"console/{sending} on 2025-03-10 (quote" in caplog.text


async def test_a_day_claimed_but_never_sent_is_posted_once_after_a_restart(
    core: Core,
    service: QuoteService,
) -> None:
    await save(core, "general", utc("2025-03-09T23:00"))
    history = core.daily.store
    assert await history.claim("console", "general", date(2025, 3, 10), None, NOW)
    clock = FakeClock(utc("2025-03-10T08:05"))
    poster = RecordingPoster("console", clock)
    async with running(scheduler(core, clock, poster), clock) as loop:
        await loop.run_until(utc("2025-03-10T20:00"))
    assert [p.at for p in poster.posts] == [utc("2025-03-10T08:05")]


def test_the_scheduler_reaches_daily_state_only_through_the_service() -> None:
    """One door: no `.store` anywhere in the scheduler; every claim and outcome is a
    DailyService call (act claims, or records a miss or a give-up; record writes, logs,
    counts and reports each outcome once)."""
    tree = ast.parse(Path(scheduler_module.__file__).read_text(encoding="utf-8"))
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert "store" not in names
    assert {"act", "record", "recover", "load", "start_sending", "worker_lease"} <= names
