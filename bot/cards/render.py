"""The card drawn from its layout and saved as PNG bytes, the same bytes for the same quote."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw

from bot.cards.fonts import font
from bot.cards.layout import (
    CACHE_SIZE,
    CARD_WIDTH,
    MARGIN_X,
    RULE_HEIGHT,
    RULE_WIDTH,
    lay_out,
    overhang,
)
from bot.quotes.models import Quote

BACKGROUND = (250, 247, 240)  # warm paper
INK = (31, 33, 38)
MUTED = (92, 96, 104)  # the credit: readable (contrast ~6:1 on the paper), below the entry
ACCENT = (150, 84, 32)  # the theme and its rule


def card_file_name(quote: Quote) -> str:
    """The name a card goes by as a file or an attachment."""
    return f"lambert-card-{quote.id}.png"


@lru_cache(maxsize=CACHE_SIZE)
def card_png(quote: Quote) -> bytes:
    """The quote's card as PNG bytes: no timestamp or other metadata, so the bytes depend on
    the quote (and the installed Pillow and font) only."""
    layout = lay_out(quote)
    image = Image.new("RGB", (CARD_WIDTH, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (MARGIN_X, layout.rule_top, MARGIN_X + RULE_WIDTH - 1, layout.rule_top + RULE_HEIGHT - 1),
        fill=ACCENT,
    )
    for block, colour in ((layout.theme, ACCENT), (layout.body, INK), (layout.credit, MUTED)):
        face = font(block.style, block.size)
        for n, line in enumerate(block.lines):
            # "la": y is the line's ascender, so the line fills [y, y + ascent + descent].
            y = block.top + n * block.line_height
            x = MARGIN_X + overhang(face, line)
            draw.text((x, y), line, fill=colour, font=face, anchor="la")
    out = io.BytesIO()
    image.save(out, "PNG")  # zlib level 6: level 9 is 5x slower for 5% fewer bytes
    return out.getvalue()
