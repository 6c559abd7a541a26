"""Autocomplete on the real corpus: themes from the first letter, quotes once a word takes shape."""

from __future__ import annotations

from bot.quotes.service import MIN_PREFIX, QuoteService


async def test_quotes_wait_for_the_last_word_to_take_shape(service: QuoteService) -> None:
    short = await service.autocomplete("dp")
    assert short and short[0].value == "dpo"  # themes match from the first letters
    assert not [s for s in short if s.value.startswith("id ")]
    assert len("rew") == MIN_PREFIX
    assert [s for s in await service.autocomplete("rew") if s.value.startswith("id ")]


async def test_quotes_about_the_words_come_before_quotes_that_mention_them(
    service: QuoteService,
) -> None:
    choices = [s for s in await service.autocomplete("reward hack") if s.value.startswith("id ")]
    quotes = [await service.quote(s.value.removeprefix("id ")) for s in choices]
    topics = ["reward hack" in q.topic.casefold() for q in quotes if q is not None]
    assert topics and topics[0]
    assert topics == sorted(topics, reverse=True)  # every topic match before any text match
    assert len({s.value for s in choices}) == len(choices)  # a quote is offered once
