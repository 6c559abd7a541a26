"""The corpus file says exactly what the seed documents say: nothing lost, changed or invented."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.quotes.corpus import Corpus, read_corpus
from bot.quotes.models import Kind

CORPUS_PATH = Path(__file__).resolve().parents[1] / "data" / "lambert.toml"
LESSONS_SEED = "004_6ddea8da161ebfd7.txt"
FAREWELL_SEED = "000_7858d36f627eadda.txt"
FAREWELL_THEME = "farewell"
FAREWELL_TITLE = "Farewell note to Ai2"
SEED_ENTRY_COUNT = 74
SEED_PART_COUNT = 8

# Parsed here on purpose, apart from bot/quotes/corpus.py, so a bug there cannot hide one here.
PART_LINE = re.compile(r"Part (?P<number>\d+): (?P<title>.+)")
ENTRY_LINE = re.compile(r"- (?P<topic>On [^:]+): (?P<text>.+) — Source: \[(?P<source>[^\]]+)\]")
FAREWELL_PASSAGE = re.compile(r"“([^”]+)”")


@dataclass(frozen=True)
class SeedEntry:
    theme_title: str
    topic: str
    source: str
    kind: Kind
    text: str


def seeds_dir() -> Path:
    configured = os.environ.get("LAMBERT_SEEDS")
    folder = (
        Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "seeds"
    )
    if not folder.is_dir():
        reason = f"seed documents not found at {folder} (set LAMBERT_SEEDS to their folder)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


def parse_lessons(text: str) -> list[SeedEntry]:
    """Every "- On <topic>: <text> — Source: [<source>]" line, under its "Part N: Title"."""
    entries: list[SeedEntry] = []
    part_title = ""
    for line in text.splitlines():
        if part := PART_LINE.fullmatch(line):
            part_title = part["title"]
        elif line.startswith("- "):
            entry = ENTRY_LINE.fullmatch(line)
            assert entry, f"seed line not understood: {line!r}"
            assert part_title, f"seed entry before any part heading: {line!r}"
            body = entry["text"]
            wrapped = len(body) > 1 and body.startswith('"') and body.endswith('"')
            entries.append(
                SeedEntry(
                    theme_title=part_title,
                    topic=entry["topic"],
                    source=entry["source"],
                    kind=Kind.QUOTE if wrapped else Kind.PARAPHRASE,
                    text=body[1:-1] if wrapped else body,
                )
            )
    return entries


@pytest.fixture(scope="module")
def seeds() -> Path:
    return seeds_dir()


@pytest.fixture(scope="module")
def lessons(seeds: Path) -> list[SeedEntry]:
    return parse_lessons((seeds / LESSONS_SEED).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def farewell_passages(seeds: Path) -> list[str]:
    return FAREWELL_PASSAGE.findall((seeds / FAREWELL_SEED).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return read_corpus(CORPUS_PATH)


def corpus_lessons(corpus: Corpus) -> list[SeedEntry]:
    return [
        SeedEntry(quote.theme_title, quote.topic, quote.source, quote.kind, quote.text)
        for quote in corpus.quotes
        if quote.theme != FAREWELL_THEME
    ]


def test_the_seed_parser_reads_every_entry(lessons: list[SeedEntry]) -> None:
    assert len(lessons) == SEED_ENTRY_COUNT
    assert len({entry.theme_title for entry in lessons}) == SEED_PART_COUNT


def test_every_seed_entry_is_in_the_corpus_exactly_and_in_seed_order(
    lessons: list[SeedEntry], corpus: Corpus
) -> None:
    in_corpus = corpus_lessons(corpus)
    for index, (expected, actual) in enumerate(zip(lessons, in_corpus, strict=False)):
        assert actual == expected, f"entry {index} ({expected.topic}) differs from the seed"
    assert len(in_corpus) == len(lessons)


def test_theme_titles_are_the_seed_part_titles(lessons: list[SeedEntry], corpus: Corpus) -> None:
    part_titles = list(dict.fromkeys(entry.theme_title for entry in lessons))
    assert [theme.title for theme in corpus.themes] == [*part_titles, FAREWELL_TITLE]


def test_kinds_follow_the_wrapping_rule_with_paraphrases_that_quote_fragments(
    corpus: Corpus,
) -> None:
    kinds = {quote.topic: quote.kind for quote in corpus.quotes}
    # Each of these contains his words in quotation marks but is not wrapped as a whole.
    for topic in ("On mitigating risks of obscurity", "On educational impact"):
        assert kinds[topic] is Kind.PARAPHRASE
    assert kinds["On robotics as foundation"] is Kind.PARAPHRASE
    assert kinds["On DPO's simplicity"] is Kind.QUOTE


def test_farewell_entries_are_whole_quoted_passages_of_the_farewell_seed(
    farewell_passages: list[str], corpus: Corpus
) -> None:
    farewell = [quote for quote in corpus.quotes if quote.theme == FAREWELL_THEME]
    assert farewell, "the farewell theme has no entries"
    for quote in farewell:
        assert quote.text in farewell_passages, f"{quote.id} is not a quoted passage of the seed"
        assert quote.kind is Kind.QUOTE
        assert quote.source == FAREWELL_TITLE
        assert quote.theme_title == FAREWELL_TITLE


def test_farewell_keeps_his_passages_and_leaves_out_repeats_and_scare_quotes(
    corpus: Corpus,
) -> None:
    farewell_texts = {quote.text for quote in corpus.quotes if quote.theme == FAREWELL_THEME}
    assert farewell_texts == {
        "far from the frontier in performance",
        "making the open ecosystem better coordinated.",
        "Ai2 needs to stay as ambitious as possible… Do not shy away from these challenges – AI "
        "needs independent voices as it only becomes more geopolitical, socially disruptive, and "
        "central to the economy.",
    }


def test_corpus_counts(corpus: Corpus) -> None:
    assert len(corpus.themes) == SEED_PART_COUNT + 1
    assert len(corpus.quotes) == SEED_ENTRY_COUNT + 3


def test_no_source_is_invented(lessons: list[SeedEntry], corpus: Corpus) -> None:
    seed_sources = {entry.source for entry in lessons} | {FAREWELL_TITLE}
    assert {quote.source for quote in corpus.quotes} <= seed_sources
    # The seeds give no links or dates; a quote card must not either.
    for quote in corpus.quotes:
        assert "http" not in quote.text + quote.source, quote.id
