""" "Lambert on this": top-1 and top-3 hits of the lexical and the fused matcher on the table of
chat messages (bench/data/on_this_cases.toml), and the fused matcher's time per message."""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench.context import REAL, Bench
from bench.report import INFO, MISS, PASS, Row, timed_row
from bot.quotes.matching import FusedMatcher, LexicalMatcher, Matcher
from bot.quotes.meaning import MeaningMatcher
from bot.quotes.service import QuoteService
from bot.runtime import open_core

CASES = Path(__file__).parent / "data" / "on_this_cases.toml"
FAMILY = "on-this"
TARGET_TOP1, TARGET_TOP3 = 0.60, 0.85  # the fused matcher's aims (issue 21)


@dataclass(frozen=True, slots=True)
class Case:
    message: str
    accept: frozenset[str]


@dataclass(frozen=True, slots=True)
class Hits:
    """How many cases had an accepted quote first, and among the first three."""

    cases: int
    top1: int
    top3: int

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.cases

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.cases


def read_cases(path: Path = CASES) -> list[Case]:
    with path.open("rb") as f:
        table = tomllib.load(f)
    return [Case(c["message"], frozenset(c["accept"])) for c in table["cases"]]


async def score(matcher: Matcher, cases: list[Case]) -> Hits:
    top1 = top3 = 0
    for case in cases:
        ids = [q.id for q in await matcher.best(case.message, 3)]
        top1 += bool(ids[:1]) and ids[0] in case.accept
        top3 += bool(case.accept & set(ids))
    return Hits(len(cases), top1, top3)


async def matchers(service: QuoteService) -> tuple[LexicalMatcher, FusedMatcher]:
    lexical = LexicalMatcher(service)
    return lexical, FusedMatcher(lexical, await MeaningMatcher.create(service))


def _rate_row(name: str, hits: Hits, which: str, target: float | None) -> Row:
    rate = hits.top1_rate if which == "top-1" else hits.top3_rate
    row = Row(FAMILY, f"{name} {which} hits", hits.cases, "%", round(100 * rate, 1))
    if target is not None:
        row.target = f"≥ {100 * target:g} %"
        row.verdict = PASS if rate >= target else MISS
    else:
        row.verdict = INFO
    return row


async def on_this_family(bench: Bench) -> list[Row]:
    db = bench.fresh_db("on-this")
    cases = read_cases()
    async with open_core(bench.settings(REAL, db)) as core:
        lexical, fused = await matchers(core.quotes)
        lex, fus = await score(lexical, cases), await score(fused, cases)
        timings = []
        for case in cases:
            started = time.perf_counter()
            await fused.best(case.message, 10)
            timings.append(time.perf_counter() - started)
    return [
        _rate_row("lexical", lex, "top-1", None),
        _rate_row("lexical", lex, "top-3", None),
        _rate_row("fused", fus, "top-1", TARGET_TOP1),
        _rate_row("fused", fus, "top-3", TARGET_TOP3),
        timed_row(FAMILY, "fused match, one message", timings, note="words + meaning, 10 fits"),
    ]
