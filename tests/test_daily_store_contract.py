"""One set of DailyStore tests, run against every backend: SQLite and PostgreSQL never drift.

Each test gets a store over a real database (the SQLite file, or a PostgreSQL database of its
own on the session's test server) and the real corpus in the local SQLite file; `replica()`
opens a second store on the same state through connections of its own, as another process
would.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.daily.clock import StoppedClock
from bot.daily.days import PostStatus
from bot.daily.schedules import EVERY_DAY, WEEKDAYS, Schedule
from bot.daily.service import DailyService
from bot.daily.store import DailyStore
from bot.quotes.service import QuoteService
from bot.runtime import Core
from bot.storage.engine import rows, run
from bot.storage.schema import daily_meta
from tests.support.state import daily_store, leases_of, outcome

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)
WHERE = ("console", "general")


@dataclass
class Backend:
    name: str
    store: DailyStore
    quotes: QuoteService
    replica: Callable[[], AbstractAsyncContextManager[DailyStore]]


@pytest.fixture
async def backend(core: Core, db_path: Path, backend_url: str | None) -> AsyncIterator[Backend]:
    """The daily store on `backend_url`'s backend (SQLite: the file of `core`), and a replica:
    another engine on the same state, as another process would open it."""
    service = core.quotes

    def replica() -> AbstractAsyncContextManager[DailyStore]:
        return daily_store(db_path, backend_url, service)

    async with daily_store(db_path, backend_url, service, random.Random(7)) as store:
        yield Backend((backend_url and "postgresql") or "sqlite", store, service, replica)


def days(n: int) -> list[date]:
    return [DAY + timedelta(i) for i in range(n)]


def berlin_nine(channel: str = "general", theme: str | None = None) -> Schedule:
    return Schedule("console", channel, time(9), "Europe/Berlin", theme, True, "ops", NOW)


async def post_every_day(store: DailyStore, theme: str | None, n: int) -> list[str]:
    """Claim and post `n` consecutive days in console/general; the quote of each."""
    posted = []
    for day in days(n):
        claim = await store.claim(*WHERE, day, theme, NOW, None)
        assert claim is not None
        assert await store.start_sending(claim)
        await store.record(outcome(PostStatus.POSTED, claim, NOW, message_id=f"m-{day}"))
        posted.append(claim.quote_id)
    return posted


async def only_record(store: DailyStore) -> tuple[PostStatus, int, str | None]:
    (record,) = (await store.records_since(DAY)).values()
    return record.status, record.attempts, record.reason


def test_the_daily_store_port_has_fifteen_methods_at_most() -> None:
    """The port is DailyStore itself (no Protocol beside it); DailyService the one door."""
    public = inspect.getmembers(DailyStore, inspect.iscoroutinefunction)
    assert len([name for name, _ in public if not name.startswith("_")]) <= 15, public


async def test_a_schedule_round_trips(backend: Backend) -> None:
    store = backend.store
    assert await store.schedule(*WHERE) is None
    await store.save_schedules([berlin_nine(theme="dpo-vs-ppo")])
    assert await store.schedule(*WHERE) == berlin_nine(theme="dpo-vs-ppo")
    # Saving again replaces it: one schedule per channel.
    await store.save_schedules([berlin_nine()])
    await store.save_schedules([berlin_nine("other")])
    assert await store.schedules() == [berlin_nine(), berlin_nine("other")]

    later = NOW + timedelta(hours=1)
    service = DailyService(store, StoppedClock(later))
    assert await service.turn_off(*WHERE, "alice")
    off = await store.schedule(*WHERE)
    assert off is not None and not off.enabled
    assert (off.set_by, off.set_at, off.disabled_reason) == ("alice", later, None)
    assert off.local_time == time(9) and off.tz == "Europe/Berlin"
    assert not await service.turn_off("console", "nowhere", "alice")


async def test_a_schedules_days_of_the_week_round_trip_and_survive_turning_off(
    backend: Backend,
) -> None:
    store = backend.store
    mon_wed_fri = 0b0010101
    await store.save_schedules([replace(berlin_nine(), weekdays=WEEKDAYS)])
    await store.save_schedules([replace(berlin_nine("other"), weekdays=mon_wed_fri)])
    found = {s.channel: s.weekdays for s in await store.schedules()}
    assert found == {"general": WEEKDAYS, "other": mon_wed_fri}
    service = DailyService(store, StoppedClock(NOW + timedelta(hours=1)))
    assert await service.turn_off(*WHERE, "alice")
    off = await store.schedule(*WHERE)
    assert off is not None and not off.enabled and off.weekdays == WEEKDAYS
    # Turned on again without days: every day again, as the command says.
    await service.turn_on(*WHERE, time(9), "Europe/Berlin", None, "alice")
    again = await store.schedule(*WHERE)
    assert again is not None and again.weekdays == EVERY_DAY


async def test_a_day_is_claimed_once_even_from_another_process(backend: Backend) -> None:
    store = backend.store
    claim = await store.claim(*WHERE, DAY, None, NOW, None)
    assert claim is not None and claim.attempt == 1
    assert await backend.quotes.quote(claim.quote_id) is not None
    assert await store.claim(*WHERE, DAY, None, NOW, None) is None
    assert not await store.record(outcome(PostStatus.MISSED, (*WHERE, DAY), NOW))
    async with backend.replica() as other:
        assert await other.claim(*WHERE, DAY, None, NOW, None) is None
        assert await other.claim("console", "other", DAY, None, NOW, None) is not None
    record = (await store.records_since(DAY))[(*WHERE, DAY)]
    assert (record.status, record.quote_id, record.claimed_at) == (
        PostStatus.CLAIMED,
        claim.quote_id,
        NOW,
    )


async def test_twenty_concurrent_claims_of_a_fresh_day_make_one_winner(backend: Backend) -> None:
    async with backend.replica() as second, backend.replica() as third:
        stores = itertools.cycle([backend.store, second, third])
        claims = await asyncio.gather(
            *(next(stores).claim(*WHERE, DAY, None, NOW, f"w{i}") for i in range(20))
        )
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    (record,) = (await backend.store.records_since(DAY)).values()
    assert (record.quote_id, record.attempts) == (winners[0].quote_id, 1)
    # Only the winner drew: the next day's draw never repeats its quote.
    nxt = await backend.store.claim(*WHERE, DAY + timedelta(1), None, NOW, None)
    assert nxt is not None and nxt.quote_id != winners[0].quote_id


async def test_a_missed_day_cannot_be_claimed(backend: Backend) -> None:
    store = backend.store
    assert await store.record(outcome(PostStatus.MISSED, (*WHERE, DAY), NOW))
    assert not await store.record(outcome(PostStatus.MISSED, (*WHERE, DAY), NOW))
    assert await store.claim(*WHERE, DAY, None, NOW, None) is None
    (record,) = (await store.records_since(DAY)).values()
    assert (record.status, record.quote_id, record.attempts) == (PostStatus.MISSED, None, 0)


async def test_a_retrying_day_is_taken_back_by_one_claimant_only(backend: Backend) -> None:
    store = backend.store
    claim = await store.claim(*WHERE, DAY, None, NOW, None)
    assert claim is not None and await store.start_sending(claim)
    retry_at = NOW + timedelta(minutes=1)
    await store.record(outcome(PostStatus.RETRYING, claim, NOW, "rate limited", retry_at=retry_at))
    (record,) = (await store.records_since(DAY)).values()
    assert (record.status, record.attempts, record.next_attempt_at) == (
        PostStatus.RETRYING,
        1,
        retry_at,
    )

    again = await store.reclaim(record, None, retry_at, "w2")
    assert again is not None and (again.quote_id, again.attempt) == (claim.quote_id, 2)
    assert await store.reclaim(record, None, retry_at, "w3") is None
    assert not await store.start_sending(claim)  # the first attempt's token is spent
    assert await store.start_sending(again)
    await store.record(outcome(PostStatus.POSTED, again, retry_at, message_id="m1"))
    latest = (await store.latest())[WHERE]
    assert (latest.status, latest.message_id, latest.reason) == (PostStatus.POSTED, "m1", None)


async def test_giving_up_fails_a_retrying_day_and_puts_its_quote_back(backend: Backend) -> None:
    store = backend.store
    ids = [q.id for q in await backend.quotes.quotes("farewell")]
    claim = await store.claim(*WHERE, DAY, "farewell", NOW, None)
    assert claim is not None
    (record,) = (await store.records_since(DAY)).values()
    assert not await store.record(
        outcome(PostStatus.FAILED, record, NOW, "too late")
    )  # claimed, not retrying

    await store.record(
        outcome(PostStatus.RETRYING, claim, NOW, "timeout", retry_at=NOW + timedelta(minutes=1))
    )
    (record,) = (await store.records_since(DAY)).values()
    assert await store.record(
        outcome(PostStatus.FAILED, record, NOW, "gave up after 1 attempts: timeout")
    )
    assert not await store.record(outcome(PostStatus.FAILED, record, NOW, "again"))
    assert await only_record(store) == (
        PostStatus.FAILED,
        1,
        "gave up after 1 attempts: timeout",
    )
    # The quote never went out: the round still holds all of the theme.
    rest = [await store.claim(*WHERE, d, "farewell", NOW, None) for d in days(len(ids) + 1)[1:]]
    assert sorted(c.quote_id for c in rest if c) == sorted(ids)


async def test_a_failed_post_puts_its_quote_back_and_may_switch_the_schedule_off(
    backend: Backend,
) -> None:
    store = backend.store
    await store.save_schedules([berlin_nine(theme="farewell")])
    ids = [q.id for q in await backend.quotes.quotes("farewell")]
    claim = await store.claim(*WHERE, DAY, "farewell", NOW, None)
    assert claim is not None
    await store.record(outcome(PostStatus.FAILED, claim, NOW, "channel_not_found", disable=True))

    assert await only_record(store) == (PostStatus.FAILED, 1, "channel_not_found")
    schedule = await store.schedule(*WHERE)
    assert schedule is not None and not schedule.enabled
    assert schedule.disabled_reason == "channel_not_found"
    rest = [await store.claim(*WHERE, d, "farewell", NOW, None) for d in days(len(ids) + 1)[1:]]
    assert sorted(c.quote_id for c in rest if c) == sorted(ids)


async def test_a_day_that_may_have_posted_ends_unknown_and_keeps_its_quote(
    backend: Backend,
) -> None:
    store = backend.store
    ids = [q.id for q in await backend.quotes.quotes("farewell")]
    claim = await store.claim(*WHERE, DAY, "farewell", NOW, None)
    assert claim is not None and await store.start_sending(claim)
    window = NOW + timedelta(minutes=5)
    await store.record(
        outcome(
            PostStatus.RETRYING,
            claim,
            NOW,
            "timeout",
            retry_at=NOW + timedelta(minutes=1),
            resend_until=window,
        )
    )
    (record,) = (await store.records_since(DAY)).values()
    assert record.resend_until == window
    again = await store.reclaim(record, "farewell", NOW + timedelta(minutes=1), None)
    assert again is not None and again.resend_until == window
    # A later window never moves the first one.
    await store.record(
        outcome(
            PostStatus.RETRYING,
            again,
            NOW,
            "timeout",
            retry_at=NOW,
            resend_until=window + timedelta(hours=1),
        )
    )
    (record,) = (await store.records_since(DAY)).values()
    assert record.resend_until == window

    assert await store.record(outcome(PostStatus.FAILED, record, NOW, "gave up"))
    assert (await only_record(store))[0] is PostStatus.UNKNOWN
    # Its quote may be in the channel: the round goes on without it.
    rest = [await store.claim(*WHERE, d, "farewell", NOW, None) for d in days(len(ids))[1:]]
    assert sorted(c.quote_id for c in rest if c) == sorted(set(ids) - {claim.quote_id})


async def test_record_unknown_ends_the_day_for_good(backend: Backend) -> None:
    store = backend.store
    claim = await store.claim(*WHERE, DAY, None, NOW, None)
    assert claim is not None and await store.start_sending(claim)
    await store.record(outcome(PostStatus.UNKNOWN, claim, NOW, "no answer from the platform"))
    record = (await store.latest())[WHERE]
    assert (record.status, record.next_attempt_at) == (PostStatus.UNKNOWN, None)
    assert await store.claim(*WHERE, DAY, None, NOW, None) is None
    assert await store.recover_claims(NOW) == ([], [])


async def test_claims_of_gone_schedulers_are_settled_and_live_ones_left_alone(
    backend: Backend,
) -> None:
    store = backend.store
    leases = leases_of(store)
    assert not await leases.hold_lease("alive", "test:1", timedelta(seconds=60))  # taken anew
    assert await leases.hold_lease("alive", "test:1", timedelta(seconds=60))  # renewed
    claimed = await store.claim("console", "a", DAY, None, NOW, "gone")
    sending = await store.claim("console", "b", DAY, None, NOW, "gone")
    alive = await store.claim("console", "c", DAY, None, NOW, "alive")
    assert claimed and sending and alive
    assert await store.start_sending(sending) and await store.start_sending(alive)

    retried, unknown = await store.recover_claims(NOW)
    assert [r.channel for r in retried] == ["a"] and [r.channel for r in unknown] == ["b"]
    records = await store.records_since(DAY)
    a, b, c = (records[("console", ch, DAY)] for ch in "abc")
    assert (a.status, a.next_attempt_at, a.reason) == (
        PostStatus.RETRYING,
        NOW,
        "the process stopped before posting",
    )
    assert b.status is PostStatus.UNKNOWN and "may or may not" in (b.reason or "")
    assert c.status is PostStatus.SENDING
    assert await store.recover_claims(NOW) == ([], [])

    # The first owner of `a`, alive after all, may not send; whoever reclaims it may.
    assert not await store.start_sending(claimed)
    again = await store.reclaim(a, None, NOW, None)
    assert again is not None and again.quote_id == claimed.quote_id
    # `b` was only guessed unknown: its owner's real outcome wins.
    await store.record(outcome(PostStatus.POSTED, sending, NOW, message_id="m-b"))
    assert (await store.latest())[("console", "b")].status is PostStatus.POSTED


async def test_the_bag_gives_every_quote_of_a_theme_once_per_round(backend: Backend) -> None:
    theme_ids = [q.id for q in await backend.quotes.quotes("dpo-vs-ppo")]
    n = len(theme_ids)
    drawn = await post_every_day(backend.store, "dpo-vs-ppo", 3 * n)
    for start in (0, n, 2 * n):
        assert sorted(drawn[start : start + n]) == sorted(theme_ids)
    # No quote twice in a row, not even where one round ends and the next begins.
    assert all(a != b for a, b in itertools.pairwise(drawn))


async def test_the_bag_of_every_quote_and_of_a_gone_theme(backend: Backend) -> None:
    every = [q.id for q in await backend.quotes.quotes()]
    drawn = await post_every_day(backend.store, None, len(every))
    assert sorted(drawn) == sorted(every)
    # A theme no longer in the corpus draws from every quote: a new round, no repeat first.
    claim = await backend.store.claim(*WHERE, DAY + timedelta(500), "gone-theme", NOW, None)
    assert claim is not None and claim.quote_id in every and claim.quote_id != drawn[-1]


async def test_bags_are_per_channel_and_survive_a_new_process(backend: Backend) -> None:
    theme_ids = [q.id for q in await backend.quotes.quotes("careers")]
    half = len(theme_ids) // 2
    first = await post_every_day(backend.store, "careers", half)
    elsewhere = await backend.store.claim("console", "other", DAY, "careers", NOW, None)
    assert elsewhere is not None
    async with backend.replica() as other:
        rest = []
        for day in days(len(theme_ids))[half:]:
            claim = await other.claim(*WHERE, day, "careers", NOW, None)
            assert claim is not None
            rest.append(claim.quote_id)
    assert sorted(first + rest) == sorted(theme_ids)


async def test_latest_and_records_since(backend: Backend) -> None:
    store = backend.store
    await post_every_day(store, None, 3)
    assert await store.record(
        outcome(PostStatus.MISSED, ("console", "other", DAY + timedelta(1)), NOW)
    )
    assert await store.record(
        outcome(PostStatus.MISSED, ("console", "other", DAY - timedelta(5)), NOW)
    )

    since = await store.records_since(DAY + timedelta(1))
    assert sorted(since) == [
        ("console", "general", DAY + timedelta(1)),
        ("console", "general", DAY + timedelta(2)),
        ("console", "other", DAY + timedelta(1)),
    ]
    assert all(key == record.key for key, record in since.items())
    latest = await store.latest()
    assert sorted(latest) == [WHERE, ("console", "other")]
    general = latest[WHERE]
    assert (general.local_date, general.status, general.message_id) == (
        DAY + timedelta(2),
        PostStatus.POSTED,
        f"m-{DAY + timedelta(2)}",
    )
    assert latest[("console", "other")].status is PostStatus.MISSED


async def test_the_last_quotes_of_a_round_are_found_exactly(backend: Backend) -> None:
    """Near a round's end random guesses mostly hit drawn quotes: the exact pick takes over."""
    ids = [q.id for q in await backend.quotes.quotes()]
    drawn = await post_every_day(backend.store, None, len(ids) - 1)
    (left,) = set(ids) - set(drawn)
    last = await backend.store.claim(*WHERE, DAY + timedelta(len(ids)), None, NOW, None)
    assert last is not None and last.quote_id == left


async def test_one_post_costs_three_transactions_of_at_most_four_statements(
    backend: Backend,
) -> None:
    """A post's writes (claim, start sending, posted) are three transactions; the claim is one
    statement on PostgreSQL and two on SQLite (the bag's row follows the day's), each outcome
    one: a statement more per post is a regression (each was a thread hop on SQLite)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)  # every engine: run()'s own on SQLite
    try:
        await post_every_day(backend.store, None, 1)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    begun = [s for s in seen if s == "BEGIN IMMEDIATE"]
    statements = [s for s in seen if s != "BEGIN IMMEDIATE"]
    if backend.name == "sqlite":
        assert len(begun) == 3 and len(statements) == 4, seen
    else:
        assert not begun and len(statements) == 3, seen


async def test_a_run_is_one_transaction_and_a_single_statement_needs_none(
    backend: Backend,
) -> None:
    """storage.engine.run: what the work wrote is rolled back when it raises; on SQLite the
    work runs off the event loop (in aiosqlite's thread, one hop); on PostgreSQL a single
    statement runs in autocommit (no BEGIN or COMMIT), a write's statements in one transaction."""
    engine = backend.store.engine

    def half(conn: sa.Connection) -> None:
        conn.execute(daily_meta.insert().values(name="half", value="written"))
        raise RuntimeError("stopped halfway")

    with pytest.raises(RuntimeError):
        await run(engine, half)
    assert await rows(engine, daily_meta.select().where(daily_meta.c.name == "half")) == []
    if backend.name == "postgresql":

        def two(conn: sa.Connection) -> list[int]:
            return [conn.execute(sa.text("SELECT txid_current()")).scalar_one() for _ in "ab"]

        first, second = await run(engine, two, single=True)
        assert first != second  # each statement its own transaction
        first, second = await run(engine, two)
        assert first == second
    else:
        assert await run(engine, lambda _: threading.get_ident()) != threading.get_ident()
