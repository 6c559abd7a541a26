"""A forgiving grammar: slips of the finger get "Did you mean", times come in many forms, and
search results page until they end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from bot.chat.context import RequestContext
from bot.chat.grammar import answer
from bot.chat.quote_verbs import one_slip, slip_of
from bot.chat.replies import ListReply, QuoteReply, TextReply
from bot.daily.clock import StoppedClock
from bot.daily.schedules import ScheduleError, parse_local_time, parse_zone, zone_suggestions
from bot.runtime import Core

ADMIN = RequestContext(platform="console", channel="general", user="op", admin=True)


@pytest.fixture
async def statements(core: Core) -> AsyncIterator[list[str]]:
    """Every SQL statement the core runs meanwhile: a search shows up as an FTS5 MATCH."""
    seen: list[str] = []
    await core.quotes.conn.set_trace_callback(seen.append)
    yield seen
    await core.quotes.conn.set_trace_callback(None)


def searched(statements: list[str]) -> bool:
    return any("quotes_fts MATCH" in s for s in statements)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("serach dpo", "search dpo"),
        ("themse", "themes"),
        ("hepl", "help"),
        ("dialy", "daily"),
        ("dialy on 9am UTC", "daily on 9am UTC"),
        ("SERACH reward hacking", "search reward hacking"),
        ("dop", "dpo"),
        ("rlfh", "rlhf"),
    ],
)
async def test_a_slip_is_answered_with_a_suggestion_and_nothing_is_searched(
    core: Core, statements: list[str], typed: str, meant: str
) -> None:
    reply = await answer(core, typed, ADMIN)
    assert isinstance(reply, TextReply)
    assert reply.title == f"Did you mean `{meant}`?"
    assert f"`/lambert {meant}`" in reply.lines[0]
    assert not searched(statements)


@pytest.mark.parametrize(
    "text",
    [
        "is rlhf dead",  # two letters: never a slip of `id`
        "search dpo",  # the verb itself
        "reward hacking",  # no verb near
        "helped",  # two slips from `help`
    ],
)
async def test_what_is_not_a_slip_is_searched_as_before(
    core: Core, statements: list[str], text: str
) -> None:
    reply = await answer(core, text, ADMIN)
    assert not (isinstance(reply, TextReply) and reply.title.startswith("Did you mean"))
    assert searched(statements)


async def test_a_word_of_the_corpus_is_never_taken_for_a_slip(
    core: Core, statements: list[str]
) -> None:
    """`ipo` is one slip from the theme `dpo`, but a word of the corpus: meant, so searched."""
    assert await core.quotes.knows_word("ipo")
    reply = await answer(core, "ipo", ADMIN)
    assert isinstance(reply, QuoteReply)
    assert searched(statements)


@pytest.mark.parametrize(
    ("typed", "name", "slip"),
    [
        ("serach", "search", True),
        ("sarch", "search", True),
        ("searchh", "search", True),
        ("xearch", "search", True),
        ("search", "search", False),
        ("srch", "search", False),
        ("hepl", "help", True),
        ("ehlp", "help", True),
        ("hlpe", "help", False),
    ],
)
def test_one_slip_is_one_edit_or_one_swap(typed: str, name: str, slip: bool) -> None:
    assert one_slip(typed, name) is slip


def test_a_slip_of_two_names_is_no_suggestion() -> None:
    assert slip_of("cat", ["cut", "cap"]) is None
    assert slip_of("is", ["id"]) is None
    assert slip_of("cta", ["cat", "dog"]) == "cat"


@pytest.mark.parametrize(
    ("typed", "understood"),
    [
        ("9", time(9)),
        ("09", time(9)),
        ("9am", time(9)),
        ("9 a.m.", time(9)),
        ("9:30 pm", time(21, 30)),
        ("9:30PM", time(21, 30)),
        ("12am", time(0)),
        ("12 pm", time(12)),
        ("21h", time(21)),
        ("21h30", time(21, 30)),
        ("21.30", time(21, 30)),
        ("09:00", time(9)),
        ("0:05", time(0, 5)),
    ],
)
def test_times_come_in_the_forms_people_type(typed: str, understood: time) -> None:
    assert parse_local_time(typed) == understood


@pytest.mark.parametrize("typed", ["25", "13pm", "0am", "9:60", "9.5", "21h30h", "am", "", "9:3"])
def test_a_time_that_is_none_says_which_forms_work(typed: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_local_time(typed)
    assert str(refused.value).endswith("use e.g. 09:00, 9am, 9:30 pm, 21h or 21.30.")


async def test_daily_on_says_what_time_it_understood(core: Core) -> None:
    at_noon = replace(
        core, daily=core.daily.with_clock(StoppedClock(datetime(2025, 1, 15, 12, tzinfo=UTC)))
    )
    reply = await answer(at_noon, "daily on 9:30 pm Europe/Berlin dpo", ADMIN)
    assert isinstance(reply, TextReply) and reply.ok
    assert reply.title == "Daily quote on: every day at 21:30 Europe/Berlin."
    assert reply.lines[0] == "\u201c9:30 pm\u201d read as 21:30."
    plain = await answer(at_noon, "daily on 09:00 UTC", ADMIN)
    assert isinstance(plain, TextReply) and "read as" not in " ".join(plain.lines)


@pytest.mark.parametrize("word", ["models", "rlhf", "open"])
async def test_paging_through_a_common_word_shows_each_quote_once(core: Core, word: str) -> None:
    first = await answer(core, f"search {word}", ADMIN)
    assert isinstance(first, ListReply)
    seen, reply, pages = [q.id for q in first.quotes], first, 1
    while reply.more:
        assert reply.more == f"search {word} {pages + 1}"
        reply = await answer(core, reply.more, ADMIN)  # what a More button sends
        assert isinstance(reply, ListReply) and reply.first == len(seen) + 1
        seen += [q.id for q in reply.quotes]
        pages += 1
    assert len(seen) == len(set(seen)) == first.total
    assert pages == -(-first.total // 5)


async def test_a_number_past_the_last_page_is_searched_as_words(
    core: Core, statements: list[str]
) -> None:
    """`search rlhf 900`: there is no page 900, so "900" is a word to search (none match)."""
    reply = await answer(core, "search rlhf 900", ADMIN)
    assert isinstance(reply, ListReply) and reply.first == 1
    assert "900" in reply.title


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("berl", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("utc", "UTC"),
        ("EUROPE/BER", "Europe/Berlin"),
    ],
)
def test_one_zone_suggestion_rule_for_every_adapter(typed: str, first: str) -> None:
    """Discord's autocomplete and Slack's zone menu both answer with zone_suggestions."""
    found = zone_suggestions(typed, 25)
    assert found[0] == first and all(parse_zone(name) == name for name in found)
    assert zone_suggestions("zz-none", 25) == [] and len(zone_suggestions("", 7)) == 7
    # A zone typed with spaces for underscores reads (Discord's timezone option, `--tz`).
    assert parse_zone(" america/new  york ") == "America/New_York"
