"""Schedules, claims and shuffle bags in a real SQLite file, across reopening and corpus edits."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.daily.clock import StoppedClock
from bot.daily.days import Outcome, PostStatus
from bot.daily.schedules import Schedule
from bot.daily.service import DailyService
from bot.daily.store import DailyStore
from bot.quotes.corpus import Corpus, read_corpus
from bot.quotes.models import Kind, Quote
from bot.quotes.service import QuoteService
from bot.quotes.store import sync_corpus
from bot.runtime import Core, open_core
from bot.storage.connection import LATEST_VERSION, schema_version
from tests.support.paths import CORPUS
from tests.support.state import daily_store, outcome

NOW = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)


def days(n: int) -> list[date]:
    return [DAY + timedelta(i) for i in range(n)]


def berlin_nine(channel: str = "general", theme: str | None = None) -> Schedule:
    return Schedule("console", channel, time(9), "Europe/Berlin", theme, True, "ops", NOW)


@pytest.fixture
async def history(db_path: Path, service: QuoteService) -> AsyncIterator[DailyStore]:
    """A daily store of its own engine on the SQLite file of `core`."""
    async with daily_store(db_path, None, service, random.Random(7)) as store:
        yield store


async def post_every_day(history: DailyStore, theme: str | None, n: int) -> list[str]:
    """Claim and post `n` consecutive days; the quote of each."""
    posted = []
    for day in days(n):
        claim = await history.claim("console", "general", day, theme, NOW)
        assert claim is not None
        await history.record(outcome(PostStatus.POSTED, claim, NOW, message_id="m"))
        posted.append(claim.quote_id)
    return posted


async def test_a_new_file_gets_the_daily_tables(service: QuoteService, history: DailyStore) -> None:
    assert await schema_version(service.conn) == LATEST_VERSION >= 2
    assert await history.schedules() == []


async def test_a_schedule_round_trips_and_every_change_wakes_the_scheduler(core: Core) -> None:
    daily = core.daily.with_clock(StoppedClock(NOW))
    assert daily.changed is core.daily.changed  # one event for every user of the service
    found = await daily.turn_on("console", "general", time(9), "Europe/Berlin", "dpo-vs-ppo", "ops")
    assert core.daily.changed.is_set()
    assert found.schedule == berlin_nine(theme="dpo-vs-ppo")
    assert await daily.store.schedule("console", "general") == berlin_nine(theme="dpo-vs-ppo")

    core.daily.changed.clear()
    assert await daily.turn_off("console", "general", "alice")
    assert core.daily.changed.is_set()
    status = await daily.status("console", "general")
    assert status is not None and not status.schedule.enabled
    assert status.schedule.set_by == "alice" and status.next_post is None
    assert not await daily.turn_off("console", "nowhere", "alice")
    assert [c.schedule for c in await daily.overview()] == [status.schedule]


async def test_a_schedule_disabled_by_a_failed_post_fires_the_change_event(core: Core) -> None:
    """A channel that is gone switches its schedule off: the loop in this process must see it
    at once, as it sees a change made from chat."""
    daily = core.daily.with_clock(StoppedClock(NOW))
    await daily.turn_on("console", "gone", time(9), "Europe/Berlin", None, "ops")
    claim = await daily.store.claim("console", "gone", DAY, None, NOW, None)
    assert claim is not None
    core.daily.changed.clear()

    gone = Outcome(PostStatus.FAILED, claim.key, NOW, claim, reason="channel_not_found")
    assert await daily.record(replace(gone, disable=True))

    assert core.daily.changed.is_set()
    status = await daily.status("console", "gone")
    assert status is not None and not status.schedule.enabled
    assert status.schedule.disabled_reason == "channel_not_found"
    assert status.last is not None and status.last.status is PostStatus.FAILED


async def test_a_day_is_claimed_once_even_after_reopening(
    core: Core, service: QuoteService, settings: Settings
) -> None:
    history = core.daily.store
    claim = await history.claim("console", "general", DAY, None, NOW)
    assert claim is not None
    assert await history.claim("console", "general", DAY, None, NOW) is None
    assert not await history.record(outcome(PostStatus.MISSED, ("console", "general", DAY), NOW))
    async with open_core(settings) as reopened:
        again = reopened.daily.store
        assert await again.claim("console", "general", DAY, None, NOW) is None
        assert await again.claim("console", "other", DAY, None, NOW) is not None


async def test_a_missed_day_cannot_be_claimed(core: Core, service: QuoteService) -> None:
    history = core.daily.store
    assert await history.record(outcome(PostStatus.MISSED, ("console", "general", DAY), NOW))
    assert await history.claim("console", "general", DAY, None, NOW) is None
    (record,) = (await history.records_since(DAY)).values()
    assert record.status is PostStatus.MISSED


async def test_a_claim_never_sent_is_taken_back_at_start_and_its_owner_may_not_send(
    core: Core,
    service: QuoteService,
) -> None:
    history = core.daily.store
    claim = await history.claim("console", "general", DAY, None, NOW)
    assert claim is not None

    retried, unknown = await history.recover_claims(NOW)
    assert ([r.quote_id for r in retried], unknown) == ([claim.quote_id], [])
    (record,) = (await history.records_since(DAY)).values()
    assert (record.status, record.next_attempt_at) == (PostStatus.RETRYING, NOW)
    again = await history.reclaim(record, None, NOW)
    assert again is not None and again.quote_id == claim.quote_id
    # The first owner, if it was alive after all, finds the day taken and does not send.
    assert not await history.start_sending(claim)
    assert await history.start_sending(again)


async def test_a_claim_left_while_sending_becomes_unknown_never_reposted(
    core: Core,
    service: QuoteService,
) -> None:
    history = core.daily.store
    claim = await history.claim("console", "general", DAY, None, NOW)
    assert claim is not None and await history.start_sending(claim)

    retried, (stale,) = await history.recover_claims(NOW)
    assert retried == [] and stale.quote_id == claim.quote_id
    record = (await history.latest())[("console", "general")]
    assert record.status is PostStatus.UNKNOWN and "may or may not" in (record.reason or "")
    assert await history.claim("console", "general", DAY, None, NOW) is None
    assert await history.recover_claims(NOW) == ([], [])

    # Still alive after all (another process's start guessed wrong): its outcome wins.
    await history.record(outcome(PostStatus.POSTED, claim, NOW, message_id="m1"))
    record = (await history.latest())[("console", "general")]
    assert (record.status, record.message_id) == (PostStatus.POSTED, "m1")


async def test_a_retrying_day_is_taken_back_by_one_claimant_only(
    core: Core, service: QuoteService
) -> None:
    history = core.daily.store
    claim = await history.claim("console", "general", DAY, None, NOW)
    assert claim is not None
    await history.record(
        outcome(
            PostStatus.RETRYING, claim, NOW, "rate limited", retry_at=NOW + timedelta(minutes=1)
        )
    )
    (record,) = (await history.records_since(DAY)).values()
    assert (record.status, record.attempts) == (PostStatus.RETRYING, 1)

    again = await history.reclaim(record, None, NOW)
    assert again is not None and (again.quote_id, again.attempt) == (claim.quote_id, 2)
    assert await history.reclaim(record, None, NOW) is None


async def test_the_bag_gives_every_quote_once_before_any_repeats(
    service: QuoteService, history: DailyStore
) -> None:
    theme_ids = [q.id for q in await service.quotes("dpo-vs-ppo")]
    n = len(theme_ids)
    drawn = await post_every_day(history, "dpo-vs-ppo", 3 * n)

    for round_start in (0, n, 2 * n):
        assert sorted(drawn[round_start : round_start + n]) == sorted(theme_ids)
    # No quote twice in a row, not even where one round ends and the next begins.
    assert all(a != b for a, b in itertools.pairwise(drawn))


async def test_the_bag_survives_a_restart(
    core: Core, service: QuoteService, settings: Settings
) -> None:
    theme_ids = [q.id for q in await service.quotes("careers")]
    half = len(theme_ids) // 2
    first = await post_every_day(core.daily.store, "careers", half)
    async with open_core(settings) as reopened:
        history = reopened.daily.store
        rest = []
        for day in days(len(theme_ids))[half:]:
            claim = await history.claim("console", "general", day, "careers", NOW)
            assert claim is not None
            rest.append(claim.quote_id)
    assert sorted(first + rest) == sorted(theme_ids)


async def test_the_bag_follows_the_corpus_new_quotes_join_removed_ones_leave(
    service: QuoteService, db_path: Path
) -> None:
    """The bag draws from the corpus as loaded at start: after a corpus change (a restart),
    new quotes join the current round and removed ones leave it."""
    ids = [q.id for q in await service.quotes("dpo-vs-ppo")]
    async with daily_store(db_path, None, service, random.Random(3)) as history:
        first = await post_every_day(history, "dpo-vs-ppo", 2)
    removed = next(i for i in ids if i not in first)
    corpus = read_corpus(CORPUS)
    added = Quote("new-dpo-entry", "New.", Kind.PARAPHRASE, "dpo-vs-ppo", "", "On news", "Test")
    kept = [q for q in corpus.quotes if q.id != removed]
    changed = Corpus(corpus.themes, (*kept, added), "changed-for-the-test")
    await sync_corpus(service.conn, changed, "changed")

    restarted = await QuoteService.create(service.conn)
    rest = []
    async with daily_store(db_path, None, restarted) as history:
        for day in days(len(ids))[2:]:
            claim = await history.claim("console", "general", day, "dpo-vs-ppo", NOW)
            assert claim is not None
            rest.append(claim.quote_id)
    # One round is the corpus as it is now: every current quote once, the removed one never.
    assert sorted(first + rest) == sorted([*[i for i in ids if i != removed], "new-dpo-entry"])


async def test_a_failed_post_puts_its_quote_back(
    service: QuoteService, history: DailyStore
) -> None:
    ids = [q.id for q in await service.quotes("farewell")]
    claim = await history.claim("console", "general", DAY, "farewell", NOW)
    assert claim is not None
    await history.record(outcome(PostStatus.FAILED, claim, NOW, "no permission"))
    rest = []
    for day in days(len(ids) + 1)[1:]:
        again = await history.claim("console", "general", day, "farewell", NOW)
        assert again is not None
        rest.append(again.quote_id)
    assert sorted(rest) == sorted(ids)


async def test_replacing_the_corpus_keeps_schedules_and_history(
    core: Core, service: QuoteService, settings: Settings
) -> None:
    await core.daily.store.save_schedules([berlin_nine()])
    history = core.daily.store
    await post_every_day(history, None, 1)
    corpus = read_corpus(CORPUS)
    await sync_corpus(service.conn, Corpus(corpus.themes, corpus.quotes[:5], "fewer"), "fewer")
    async with daily_store(settings.db_path, None, service) as reopened:
        assert len(await reopened.schedules()) == 1
        assert len(await reopened.records_since(DAY)) == 1


async def drawn(service: QuoteService, channel: str) -> list[str]:
    async with service.conn.execute(
        "SELECT quote_id FROM daily_bag WHERE channel = ?", (channel,)
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def test_a_day_that_may_have_posted_ends_unknown_never_failed_and_keeps_its_quote(
    core: Core, service: QuoteService
) -> None:
    history = core.daily.store
    until = NOW + timedelta(minutes=2)
    first = await history.claim("console", "maybe", DAY, None, NOW)
    assert first is not None
    await history.record(
        outcome(
            PostStatus.RETRYING,
            first,
            NOW,
            "no answer",
            retry_at=NOW + timedelta(minutes=1),
            resend_until=until,
        )
    )
    (record,) = (await history.records_since(DAY)).values()
    assert (record.status, record.resend_until) == (PostStatus.RETRYING, until)
    again = await history.reclaim(record, None, NOW)
    assert again is not None and again.resend_until == until
    # A later, definite refusal keeps the window it had and cannot call the day failed.
    await history.record(
        outcome(PostStatus.RETRYING, again, NOW, "429", retry_at=NOW + timedelta(minutes=9))
    )
    (record,) = (await history.records_since(DAY)).values()
    assert record.resend_until == until
    assert await history.record(outcome(PostStatus.FAILED, record, NOW, "day over"))
    (record,) = (await history.records_since(DAY)).values()
    assert (record.status, record.reason) == (PostStatus.UNKNOWN, "day over")
    assert await drawn(service, "maybe") == [first.quote_id]

    refused = await history.claim("console", "refused", DAY, None, NOW)
    assert refused is not None
    await history.record(outcome(PostStatus.FAILED, refused, NOW, "forbidden"))
    assert (await history.latest())[("console", "refused")].status is PostStatus.FAILED
    assert await drawn(service, "refused") == []  # nothing posted: the quote goes back

    lost = await history.claim("console", "lost", DAY, None, NOW)
    assert lost is not None
    await history.record(outcome(PostStatus.UNKNOWN, lost, NOW, "no answer from Slack"))
    record = (await history.latest())[("console", "lost")]
    assert (record.status, record.reason) == (PostStatus.UNKNOWN, "no answer from Slack")
    assert await drawn(service, "lost") == [lost.quote_id]


async def test_a_channel_status_reads_that_channel_s_records_only(
    history: DailyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    daily = DailyService(history, StoppedClock(NOW + timedelta(hours=1)))
    await history.save_schedules([berlin_nine("general"), berlin_nine("random")])
    for channel in ("general", "random"):
        claim = await history.claim("console", channel, DAY, None, NOW)
        assert claim is not None
        await history.record(outcome(PostStatus.POSTED, claim, NOW, message_id=channel))
    read: set[str] = set()  # the channels of the records the store handed back (its real ones)
    for name in ("records_since", "latest"):

        async def kept(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            found = await getattr(DailyStore, _name)(history, *args, **kwargs)
            read.update(key[1] for key in found)
            return found

        monkeypatch.setattr(history, name, kept)

    status = await daily.status("console", "general")
    assert status is not None and status.last is not None and status.last.message_id == "general"
    assert read == {"general"}
    assert {s.last.message_id for s in await daily.overview() if s.last} == {"general", "random"}
    assert read == {"general", "random"}
