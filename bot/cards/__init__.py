"""Cards: a quote as a picture, a 1200 px wide PNG (the Open Graph size) in Source Serif.

Owns the font files (the `font-source-serif-pro` package, SIL OFL; nothing fetched at run
time), the layout (sizes, measured wrapping, the card's height) and the PNG bytes, cached in
memory. It may import `bot.quotes.models` only: never chat, adapters, cli or a platform
library, so the chat adapters, the CLI and the web site all draw the same card.
"""

from bot.cards.fonts import FONT_LICENSE, font_files
from bot.cards.layout import CARD_WIDTH, MIN_CARD_HEIGHT, card_size
from bot.cards.render import card_file_name, card_png

__all__ = [
    "CARD_WIDTH",
    "FONT_LICENSE",
    "MIN_CARD_HEIGHT",
    "card_file_name",
    "card_png",
    "card_size",
    "font_files",
]
