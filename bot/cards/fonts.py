"""The card's typeface: Source Serif Pro from the `font-source-serif-pro` package (SIL OFL)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from PIL import ImageFont, features

# The package ships its files beside its __init__; resolved once, never fetched.
_FOLDER = Path(str(files("font_source_serif_pro") / "files"))
FONT_LICENSE = _FOLDER / "LICENSE.txt"
"""The SIL Open Font License text that must travel with the font files."""

# RAQM shapes text (kerning, ligatures) where the Pillow wheel carries it; basic otherwise.
# Either way a line is measured with the same engine that draws it.
LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


class Style(StrEnum):
    """The styles a card uses, by file name: the web site serves the same files."""

    REGULAR = "SourceSerifPro-Regular.ttf"
    ITALIC = "SourceSerifPro-It.ttf"
    SEMIBOLD = "SourceSerifPro-Semibold.ttf"


def font_files() -> dict[str, Path]:
    """Every font file a card uses, by file name (e.g. for the site's @font-face rules)."""
    return {style.value: _FOLDER / style.value for style in Style}


@lru_cache(maxsize=64)  # a few styles at the ~20 sizes the fitting tries
def font(style: Style, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_FOLDER / style.value, size, layout_engine=LAYOUT)
