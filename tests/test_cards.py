"""Cards drawn for real by Pillow and read back as pixels: Open Graph size, ink inside the
margins (descenders included), the same bytes every time, a taller card rather than a cut one,
and a summary never dressed as his words."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from dataclasses import replace

import pytest
from PIL import Image, ImageChops

from bot.cards import (
    CARD_WIDTH,
    FONT_LICENSE,
    MIN_CARD_HEIGHT,
    card_file_name,
    card_png,
    card_size,
    font_files,
)
from bot.cards.fonts import Style, font
from bot.cards.layout import (
    CACHE_SIZE,
    MARGIN_X,
    MARGIN_Y,
    MIN_BODY,
    RULE_HEIGHT,
    TEXT_WIDTH,
    CardLayout,
    ink_width,
    lay_out,
)
from bot.cards.render import BACKGROUND
from bot.quotes.corpus import read_corpus
from bot.quotes.models import PARTIAL_LABEL, Kind, Quote, credit_line, summary_label
from tests.support.paths import CORPUS

QUOTES = read_corpus(CORPUS).quotes
CURLY = "\u201c\u201d"


def ink(png: bytes) -> Image.Image:
    """Where the card is not background: its text and its rule."""
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.mode) == ("PNG", "RGB")
    return ImageChops.difference(image, Image.new("RGB", image.size, BACKGROUND))


def gaps(layout: CardLayout) -> list[tuple[int, int]]:
    """The rows between the theme, the rule, the entry and the credit."""
    return [
        (layout.theme.bottom, layout.rule_top),
        (layout.rule_top + RULE_HEIGHT, layout.body.top),
        (layout.body.bottom, layout.credit.top),
    ]


def chunks(png: bytes) -> list[str]:
    """The PNG's chunk types, in order."""
    found, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        found.append(png[at + 4 : at + 8].decode("ascii"))
        at += 12 + length
    return found


@pytest.mark.parametrize("quote", QUOTES, ids=[q.id for q in QUOTES])
def test_every_entry_is_an_open_graph_card_with_its_ink_inside_the_margins(quote: Quote) -> None:
    drawn = ink(card_png(quote))
    width, height = drawn.size
    assert (width, height) == card_size(quote)
    assert width == CARD_WIDTH == 1200 and height >= MIN_CARD_HEIGHT == 630
    # The margin strips are background only: no glyph, descender or overhang reaches them.
    left, top, right, bottom = drawn.getbbox() or (0, 0, 0, 0)
    assert (left, top) >= (MARGIN_X, MARGIN_Y), (left, top)
    assert right <= width - MARGIN_X and bottom <= height - MARGIN_Y, (right, bottom)
    # Each block's ink stays in its own lines (ascender + descender): nothing spills over.
    layout = lay_out(quote)
    for start, end in gaps(layout):
        assert start < end and drawn.crop((0, start, width, end)).getbbox() is None


def test_the_same_quote_gives_the_same_bytes_without_metadata() -> None:
    quote = QUOTES[0]
    first = card_png(quote)
    card_png.cache_clear()
    lay_out.cache_clear()
    assert card_png(quote) == first
    assert set(chunks(first)) == {"IHDR", "IDAT", "IEND"}  # no tIME, tEXt or the like


def test_another_process_draws_the_same_bytes() -> None:
    quote = QUOTES[-1]
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.cards import card_png\n"
        "from bot.quotes.corpus import read_corpus\n"
        f"quotes = read_corpus(Path({str(CORPUS)!r})).quotes\n"
        f"quote = next(q for q in quotes if q.id == {quote.id!r})\n"
        "sys.stdout.buffer.write(card_png(quote))\n"
    )
    drawn = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    assert drawn.stdout == card_png(quote)


def test_cards_are_cached_within_a_bound() -> None:
    quote = QUOTES[1]
    assert card_png(quote) is card_png(quote)
    assert card_png.cache_info().maxsize == lay_out.cache_info().maxsize == CACHE_SIZE
    assert len(QUOTES) <= CACHE_SIZE  # the whole corpus stays drawn


def test_a_huge_entry_gets_a_taller_card_with_every_word_and_no_line_too_wide() -> None:
    words = [f"word{n:04d}" for n in range(700)]
    url = "https://example.org/" + "a-very-long-path-segment/" * 12  # wider than any line
    text = " ".join([*words[:350], url, *words[350:]])
    huge = replace(QUOTES[0], id="huge", text=text, kind=Kind.QUOTE)
    layout = lay_out(huge)
    lines = layout.body.lines
    assert layout.body.size == MIN_BODY and layout.height > MIN_CARD_HEIGHT
    # Every word is laid out, in order: the long address split over lines, nothing dropped.
    shown = [w for line in lines for w in line.split()]
    assert [w for w in shown if w.strip(CURLY).startswith("word")] == [
        "\u201cword0000",
        *words[1:-1],
        "word0699\u201d",
    ]
    assert "".join(w for w in shown if not w.strip(CURLY).startswith("word")) == url
    face = font(layout.body.style, layout.body.size)
    assert max(ink_width(face, line) for line in lines) <= TEXT_WIDTH
    drawn = ink(card_png(huge))
    assert drawn.size == (CARD_WIDTH, layout.height) == card_size(huge)
    assert (drawn.getbbox() or (0, 0, 0, 0))[3] <= layout.height - MARGIN_Y


@pytest.mark.parametrize(
    "quote", [q for q in QUOTES if q.kind is Kind.PARAPHRASE], ids=lambda q: q.id
)
def test_a_summary_is_never_in_quotation_marks_and_says_what_it_is(quote: Quote) -> None:
    layout = lay_out(quote)
    assert not any(mark in line for line in layout.body.lines for mark in CURLY)
    assert " ".join(layout.body.lines) == quote.text
    credit = " ".join(layout.credit.lines)
    assert credit == credit_line(quote) and credit.startswith(summary_label(quote))
    assert (PARTIAL_LABEL in credit) == quote.quotes_in_part
    assert "\u2014 Nathan Lambert" not in credit


def test_his_words_are_in_curly_quotation_marks_with_his_name_and_the_source() -> None:
    quote = next(q for q in QUOTES if q.kind is Kind.QUOTE)
    layout = lay_out(quote)
    assert layout.body.lines[0].startswith("\u201c") and layout.body.lines[-1].endswith("\u201d")
    assert " ".join(layout.credit.lines) == f"\u2014 Nathan Lambert, {quote.source}"
    assert " ".join(layout.theme.lines) == quote.theme_title


def test_a_short_entry_is_drawn_larger_than_a_long_one() -> None:
    short = min(QUOTES, key=lambda q: len(q.text))
    long = max(QUOTES, key=lambda q: len(q.text))
    assert lay_out(short).body.size > lay_out(long).body.size >= MIN_BODY
    assert card_size(short) == card_size(long) == (CARD_WIDTH, MIN_CARD_HEIGHT)


def test_the_font_files_are_the_ones_drawn_and_travel_with_their_licence() -> None:
    files = font_files()
    assert set(files) == {style.value for style in Style}
    assert all(path.is_file() and path.suffix == ".ttf" for path in files.values())
    assert "SIL Open Font License" in FONT_LICENSE.read_text(encoding="utf-8")
    assert card_file_name(QUOTES[0]) == f"lambert-card-{QUOTES[0].id}.png"
