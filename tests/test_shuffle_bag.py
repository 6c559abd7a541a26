"""The shuffle bag on a big corpus: a draw looks at a few rows, never every quote."""

from __future__ import annotations

import random

from bot.daily.bag import ShuffleBag
from bot.quotes.corpus import Corpus
from bot.quotes.models import Kind, Quote, Theme
from bot.quotes.service import QuoteService

BIG = 20_000


def big_corpus(themes: tuple[Theme, ...]) -> Corpus:
    quotes = tuple(
        Quote(f"q{i}", f"Quote number {i}.", Kind.PARAPHRASE, themes[i % 2].slug, "", "T", "S")
        for i in range(BIG)
    )
    return Corpus(themes, quotes, f"big-{BIG}")


async def test_a_draw_never_scans_the_corpus(service: QuoteService) -> None:
    conn = service.store.conn
    themes = (Theme("odd", "Odd"), Theme("even", "Even"))
    await service.store.sync_corpus(big_corpus(themes), "big")
    bag = ShuffleBag(conn, random.Random(5))
    # Count SQLite's virtual-machine steps: reading every id would take several per quote.
    steps = 0

    def count_step() -> int:
        nonlocal steps
        steps += 1
        return 0  # 0 lets the statement go on

    drawn, most = [], 0
    await conn.set_progress_handler(count_step, 1)
    try:
        for theme in (None, "odd", "gone-theme"):
            for _ in range(20):
                steps = 0
                quote_id = await bag.draw("console", "general", theme)
                assert quote_id is not None
                drawn.append(quote_id)
                most = max(most, steps)
    finally:
        await conn.set_progress_handler(None, 1)
    assert len(set(drawn)) == len(drawn)  # one round: no repeats
    # A scan would be at least one step per quote; a draw is a few indexed lookups.
    assert most < BIG // 4, f"a draw took {most} steps: it scanned the {BIG} quotes"


async def test_a_removed_theme_draws_from_every_quote(service: QuoteService) -> None:
    bag = ShuffleBag(service.store.conn, random.Random(2))
    every = set(await service.store.quote_ids())
    drawn = [await bag.draw("console", "general", "no-such-theme") for _ in range(len(every))]
    assert sorted(q for q in drawn if q) == sorted(every)


async def test_the_last_quotes_of_a_round_are_found_exactly(service: QuoteService) -> None:
    """Near the end of a round random guesses mostly hit drawn quotes: the exact pick works."""
    conn = service.store.conn
    bag = ShuffleBag(conn, random.Random(11))
    ids = await service.store.quote_ids()
    keep = ids[-1]
    await conn.executemany(
        "INSERT INTO daily_bag (platform, channel, quote_id) VALUES ('console', 'general', ?)",
        [(i,) for i in ids if i != keep],
    )
    assert await bag.draw("console", "general", None) == keep
    # The round is over: the next one starts, and not with the quote that ended this one
    # (the bag never saw a post here, so nothing is known to have ended it: any quote will do).
    assert await bag.draw("console", "general", None) in ids
