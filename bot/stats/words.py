"""A search's words as stats keep them: normalised, short, and with nothing naming a person."""

from __future__ import annotations

import re
import unicodedata

MAX_WORDS = 8
MAX_CHARS = 100

# Platform mentions (<@U123>, <#C1|name>, <!here>) and anything with an @ (an address, a
# handle) are dropped whole, before the text is split into words.
_PERSONAL = re.compile(r"<[@#!][^>]*>|\S*@\S*")
_WORD = re.compile(r"\w+")
# An id as a user would paste it: a Discord snowflake (17-20 digits), a Slack user id.
_ID = re.compile(r"\d{15,}|[UW][A-Z0-9]{8,}")


def search_words(text: str) -> str:
    """Lower-cased words of `text`, at most MAX_WORDS of them; '' when none is left."""
    text = _PERSONAL.sub(" ", unicodedata.normalize("NFKC", text))
    kept = [w.casefold() for w in _WORD.findall(text) if w.strip("_") and not _ID.fullmatch(w)]
    return " ".join(kept[:MAX_WORDS])[:MAX_CHARS].strip()
