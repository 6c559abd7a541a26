"""The chat grammar on the real corpus in a real SQLite file: every request gets a polite reply."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.grammar import another, answer
from bot.chat.replies import ListReply, QuoteReply, TextReply
from bot.quotes.models import Kind, credit_line, quoted_body
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.support.hostile import HOSTILE


@pytest.mark.parametrize(
    ("request_text", "theme"),
    [
        ("dpo", "dpo-vs-ppo"),
        ("/lambert dpo", "dpo-vs-ppo"),
        ("PPO", "dpo-vs-ppo"),
        ("rlhf", "post-training"),
        ("open", "open-source"),
        ("careers", "careers"),
        ("geopolitics", "geopolitics"),
        ("reasoning", "reasoning"),
        ("mismatch", "mismatch"),
        ("farewell", "farewell"),
        ("ai2", "farewell"),
        ("DPO vs. PPO: The Optimizer Debate", "dpo-vs-ppo"),
    ],
)
async def test_a_theme_or_alias_gives_a_quote_of_that_theme(
    core: Core, service: QuoteService, request_text: str, theme: str
) -> None:
    reply = await answer(core, request_text)
    assert isinstance(reply, QuoteReply)
    assert reply.quote.theme == theme
    assert reply.matches == service.count(theme)


async def test_nothing_gives_a_random_quote(core: Core, service: QuoteService) -> None:
    reply = await answer(core, "")
    assert isinstance(reply, QuoteReply)
    assert reply.matches == service.count()


@pytest.mark.parametrize(
    ("words", "quote_id"),
    [
        ("reward hacking", "reward-hacking"),
        ("reward hackng", "reward-hacking"),
        ("sycophncy", "reward-hacking"),
        ("alignment ceiling", "alignment-ceiling"),
        ('"cross the Rubicon"', None),  # a phrase that is not in the text finds nothing exact
    ],
)
async def test_words_give_the_best_match(
    core: Core, service: QuoteService, words: str, quote_id: str | None
) -> None:
    reply = await answer(core, words)
    if quote_id is None:
        assert isinstance(reply, QuoteReply | TextReply)
        return
    assert isinstance(reply, QuoteReply)
    assert reply.quote.id == quote_id


async def test_best_match_says_how_many_more_match(core: Core, service: QuoteService) -> None:
    reply = await answer(core, "open models")
    assert isinstance(reply, QuoteReply)
    assert reply.matches > 1
    assert f"{reply.matches - 1} more quote" in reply.note


async def test_search_lists_top_matches_with_ids(core: Core, service: QuoteService) -> None:
    reply = await answer(core, "search open models")
    assert isinstance(reply, ListReply)
    assert 1 < len(reply.quotes) <= 5
    assert reply.total >= len(reply.quotes)
    assert all(q.id for q in reply.quotes)


async def test_id_shows_that_quote_and_suggests_close_ids(
    core: Core, service: QuoteService
) -> None:
    reply = await answer(core, "id reward-hacking")
    assert isinstance(reply, QuoteReply) and reply.quote.id == "reward-hacking"
    miss = await answer(core, "id reward-hackin")
    assert isinstance(miss, TextReply)
    assert "reward-hacking" in " ".join(miss.lines)


async def test_help_and_themes(core: Core, service: QuoteService) -> None:
    help_reply = await answer(core, "help")
    assert isinstance(help_reply, TextReply) and any("search" in x for x in help_reply.lines)
    themes = await answer(core, "themes")
    assert isinstance(themes, TextReply)
    assert len(themes.lines) == len(service.themes()) == 9


async def test_nothing_found_is_a_friendly_answer(core: Core, service: QuoteService) -> None:
    reply = await answer(core, "zzqx wvvq")
    assert isinstance(reply, TextReply)
    assert reply.title == "No quote matches \u201czzqx wvvq\u201d."
    assert "/lambert themes" in " ".join(reply.lines)


async def test_a_theme_one_slip_away_is_suggested(core: Core, service: QuoteService) -> None:
    assert [t.slug for t in service.closest_themes("geopolitcs")][:1] == ["geopolitics"]
    reply = await answer(core, "geopolitcs")
    assert isinstance(reply, TextReply) and reply.title == "Did you mean `geopolitics`?"


async def test_another_walks_the_search_ranking(core: Core, service: QuoteService) -> None:
    first = await answer(core, "open models")
    assert isinstance(first, QuoteReply)
    second = await another(core, first.request, after=first.quote.id)
    assert isinstance(second, QuoteReply)
    assert second.quote.id != first.quote.id


async def test_another_in_a_theme_never_repeats_the_current_quote(
    core: Core, service: QuoteService
) -> None:
    first = await answer(core, "dpo")
    assert isinstance(first, QuoteReply)
    for _ in range(20):
        nxt = await another(core, "dpo", after=first.quote.id)
        assert isinstance(nxt, QuoteReply)
        assert nxt.quote.theme == "dpo-vs-ppo" and nxt.quote.id != first.quote.id


async def test_a_paraphrase_is_never_shown_in_quotation_marks(service: QuoteService) -> None:
    paraphrase = await service.quote("reward-hacking")
    quote = await service.quote("dpo-simplicity")
    assert paraphrase is not None and paraphrase.kind is Kind.PARAPHRASE
    assert quote is not None and quote.kind is Kind.QUOTE
    assert not quoted_body(paraphrase).startswith("\u201c")
    assert "Nathan Lambert," not in credit_line(paraphrase)
    assert "Summary" in credit_line(paraphrase)
    assert quoted_body(quote) == f"\u201c{quote.text}\u201d"
    assert credit_line(quote) == f"\u2014 Nathan Lambert, {quote.source}"


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_input_gets_a_polite_reply(
    core: Core, service: QuoteService, text: str
) -> None:
    for request in (text, f"search {text}", f"id {text}"):
        reply = await answer(core, request)
        assert isinstance(reply, QuoteReply | ListReply | TextReply)
        if isinstance(reply, TextReply):
            assert reply.title and "Traceback" not in reply.title
            assert len(reply.title) < 200  # echoed input is cut short


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=400))
async def test_any_text_gets_a_reply(core: Core, service: QuoteService, text: str) -> None:
    reply = await answer(core, text)
    assert isinstance(reply, QuoteReply | ListReply | TextReply)
    follow = await another(core, text, after="no-such-id")
    assert isinstance(follow, QuoteReply | ListReply | TextReply)
