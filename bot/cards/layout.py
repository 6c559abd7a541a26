"""Where everything on a card goes: sizes fitted to the card, lines wrapped by measured width."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageFont

from bot.cards.fonts import Style, font
from bot.quotes.models import Quote, credit_line, quoted_body

CARD_WIDTH = 1200
MIN_CARD_HEIGHT = 630  # 1200 x 630: the Open Graph image size
MARGIN_X, MARGIN_Y = 88, 64
TEXT_WIDTH = CARD_WIDTH - 2 * MARGIN_X
MAX_BODY, MIN_BODY, BODY_STEP = 72, 30, 2  # px: the entry's size is fitted in this range
THEME_SIZE, CREDIT_SIZE = 28, 26
GAP = 36  # between the theme (with its rule), the entry and the credit
RULE_GAP, RULE_HEIGHT, RULE_WIDTH = 16, 4, 72  # the short rule under the theme title
CACHE_SIZE = 128
"""Layouts and PNGs kept in memory (each ~60 kB): the whole 77-entry corpus, with room."""


@dataclass(frozen=True, slots=True)
class Block:
    """Lines of one style and size; each line is as tall as the face's ascender + descender,
    so no accent or descender reaches into the next line or past the block."""

    lines: tuple[str, ...]
    style: Style
    size: int
    top: int = 0

    @property
    def line_height(self) -> int:
        ascent, descent = font(self.style, self.size).getmetrics()
        return ascent + descent

    @property
    def height(self) -> int:
        return len(self.lines) * self.line_height

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True, slots=True)
class CardLayout:
    theme: Block
    rule_top: int
    body: Block
    credit: Block
    height: int


def overhang(face: ImageFont.FreeTypeFont, text: str) -> int:
    """How far the ink of `text` reaches left of where it is drawn (an opening quotation mark,
    an italic letter): the line is drawn that much further right, so no ink enters a margin."""
    return -min(int(face.getbbox(text, anchor="la")[0]), 0)


def ink_width(face: ImageFont.FreeTypeFont, text: str) -> float:
    """The width `text` takes drawn at its overhang: its advance or its ink, the wider."""
    left, _, right, _ = face.getbbox(text, anchor="la")
    return max(right, face.getlength(text)) - min(left, 0)


def fits(face: ImageFont.FreeTypeFont, text: str, width: int) -> bool:
    """Whether `text` fits in `width`. The advance is cheap to measure; the ink (getbbox, 3x
    slower) only near the limit: a glyph's ink strays far less than an em past its advance."""
    advance = face.getlength(text)
    return advance <= width and (advance <= width - face.size or ink_width(face, text) <= width)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int = TEXT_WIDTH) -> tuple[str, ...]:
    """Lines no wider than `width` as `face` draws them; a word wider than a line is split."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            for piece in _pieces(word, face, width):
                joined = f"{line} {piece}" if line else piece
                if line and not fits(face, joined, width):
                    lines.append(line)
                    joined = piece
                line = joined
        lines.append(line)
    return tuple(lines)


def _pieces(word: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """The word itself, or (a long URL, say) as many line-wide pieces as it takes."""
    if fits(face, word, width):
        return [word]
    pieces = [""]
    for char in word:
        if pieces[-1] and not fits(face, pieces[-1] + char, width):
            pieces.append("")
        pieces[-1] += char
    return pieces


def _block(text: str, style: Style, size: int) -> Block:
    return Block(wrap(text, font(style, size)), style, size)


def _fitted(text: str, room: int) -> Block:
    """The text at the largest size whose lines fit in `room` px, else at the smallest size.
    A binary search: a larger size never needs fewer lines, and each try is a full wrap."""
    sizes = range(MIN_BODY, MAX_BODY + 1, BODY_STEP)
    low, high = 0, len(sizes) - 1  # sizes[low] is the best known to fit, or the smallest
    while low < high:
        middle = (low + high + 1) // 2
        if _block(text, Style.REGULAR, sizes[middle]).height <= room:
            low = middle
        else:
            high = middle - 1
    return _block(text, Style.REGULAR, sizes[low])


@lru_cache(maxsize=CACHE_SIZE)
def lay_out(quote: Quote) -> CardLayout:
    """The largest entry size that fills a 630 px card; past the smallest, a taller card."""
    theme = _block(quote.theme_title, Style.SEMIBOLD, THEME_SIZE)
    credit = _block(credit_line(quote), Style.ITALIC, CREDIT_SIZE)
    fixed = 2 * MARGIN_Y + theme.height + RULE_GAP + RULE_HEIGHT + 2 * GAP + credit.height
    body = _fitted(quoted_body(quote), MIN_CARD_HEIGHT - fixed)
    height = max(MIN_CARD_HEIGHT, fixed + body.height)
    rule_top = MARGIN_Y + theme.height + RULE_GAP
    room_top = rule_top + RULE_HEIGHT + GAP
    credit_top = height - MARGIN_Y - credit.height
    spare = credit_top - GAP - room_top - body.height  # the entry sits in the middle of it
    return CardLayout(
        theme=Block(theme.lines, theme.style, theme.size, MARGIN_Y),
        rule_top=rule_top,
        body=Block(body.lines, body.style, body.size, room_top + spare // 2),
        credit=Block(credit.lines, credit.style, credit.size, credit_top),
        height=height,
    )


def card_size(quote: Quote) -> tuple[int, int]:
    """(width, height) of the quote's card, e.g. for og:image:width and og:image:height."""
    return CARD_WIDTH, lay_out(quote).height
