"""The benchmark's synthetic corpus stays a valid corpus, and its searches find something."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_settings
from bot.quotes.corpus import read_corpus
from bot.runtime import open_core
from tests.support.corpus_gen import sample_queries, write_corpus


async def test_a_generated_corpus_loads_and_its_sample_searches_match(tmp_path: Path) -> None:
    path = write_corpus(tmp_path, 300)
    corpus = read_corpus(path)  # raises CorpusError on anything the real loader refuses
    assert len(corpus.quotes) == 300
    assert len({t.slug for t in corpus.themes}) == 9
    again = tmp_path / "again"
    again.mkdir()
    assert write_corpus(again, 300).read_text() == path.read_text()  # same seed, same file

    settings = load_settings({}, db_path=tmp_path / "bench.db", corpus_path=path)
    async with open_core(settings) as core:
        for query in sample_queries(path, 20):
            assert (await core.quotes.search(query, limit=1)).total >= 1, query
