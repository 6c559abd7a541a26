"""A search's words as stats keep them: plain words, nothing naming a person or a secret."""

from __future__ import annotations

import itertools
import re
import unicodedata

MAX_WORDS = 8
MAX_CHARS = 100
MAX_WORD = 24  # longer than any word a reader searches for; shorter than any key

# Platform mentions (<@U123>, <#C1|name>, <!here>) are dropped whole before the text is split.
_MENTION = re.compile(r"<[@#!][^>]*>")
# A piece between spaces is kept only when, past its outer punctuation, it is letters joined by
# hyphens or apostrophes ("reward-hacking", "don't"). That alone drops whatever holds a digit, an
# _, a ., a /, an @, a = or a + in its middle: tokens (xoxb-1-2-abc, ghp_..., sk-..., AKIA...7...),
# JWTs (a.b.c), card and phone numbers, e-mails, URLs, base64 and most passwords ("Hunter2!").
_PIECE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_LETTERS = re.compile(r"[^\W\d_]+")
# Secrets' own prefixes, for the rare one made of letters alone.
_SECRET_PREFIX = re.compile(r"(?i)(xox[a-z]|xapp|ghp|gho|ghs|ghu|github|sk|akia|asia|eyj)[-_]?")
_SHOUTED = re.compile(r"[^\W\d_a-z]{9,}")  # a run of capitals past any acronym: a key id
_HEX = re.compile(r"[a-fA-F]{12,}")  # a hex blob with no digit in it


def _shaped_like_a_key(word: str) -> bool:
    """Letters a person did not type as a word: a known prefix, a long capital run, hex, or
    case switching back and forth (random base64 letters; "LLaMA" and "OpenAI" switch once)."""
    switches = sum(1 for a, b in itertools.pairwise(word) if a.islower() and b.isupper())
    return bool(
        (_SECRET_PREFIX.match(word) and len(word) > 12)
        or _SHOUTED.search(word)
        or _HEX.fullmatch(word)
        or switches >= 3
    )


def search_words(text: str) -> str:
    """Lower-cased words of `text`, at most MAX_WORDS of them; '' when none is left."""
    kept: list[str] = []
    for raw in _MENTION.sub(" ", unicodedata.normalize("NFKC", text)).split():
        piece = raw.strip("\"'“”‘’.,;:!?()[]{}<>*`~")
        if not _PIECE.fullmatch(piece) or _shaped_like_a_key(piece.replace("-", "")):
            continue
        words = _LETTERS.findall(piece)
        if all(len(w) <= MAX_WORD for w in words):
            kept.extend(w.casefold() for w in words)
    return " ".join(kept[:MAX_WORDS])[:MAX_CHARS].strip()
