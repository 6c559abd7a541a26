"""One slip of the finger: a word that is a known name with one letter wrong, missing, extra,
or two neighbours swapped (`serach`, `hepl`, `dialy`, `themse`), and the "Did you mean" it earns."""

from __future__ import annotations

from collections.abc import Iterable

from bot.chat.quote_verbs import COMMAND
from bot.chat.replies import TextReply
from bot.quotes.search import normalise_name
from bot.quotes.service import QuoteService

MIN_SLIP_LENGTH = 3  # "is" is one slip from "id": two-letter words are never taken for slips


def one_slip(typed: str, name: str) -> bool:
    """Whether `typed` is `name` with exactly one slip (the optimal string alignment distance 1)."""
    if typed == name or abs(len(typed) - len(name)) > 1:
        return False
    if len(typed) == len(name):
        diff = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
        if len(diff) == 1:
            return True
        i, j = [*diff, 0, 0][:2]
        return len(diff) == 2 and j == i + 1 and typed[i] == name[j] and typed[j] == name[i]
    shorter, longer = sorted((typed, name), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def slip_of(typed: str, names: Iterable[str]) -> str | None:
    """The one name `typed` is a slip of; None when none, or when it could be several."""
    if len(typed) < MIN_SLIP_LENGTH:
        return None
    found = {name for name in names if one_slip(typed, name)}
    return found.pop() if len(found) == 1 else None


async def did_you_mean(quotes: QuoteService, request: str, verbs: list[str]) -> TextReply | None:
    """ "Did you mean" for a first word one slip from one of `verbs`, or a request one slip from
    a theme name; never for a word the corpus has (`helps` may be meant), so a real search is
    searched."""
    word, _, rest = request.partition(" ")
    verb = slip_of(word.casefold(), verbs)
    if verb is not None and not await quotes.knows_word(word):
        meant = f"{verb} {rest}".strip()
        return TextReply(
            f"Did you mean `{meant}`?",
            (
                f"Nothing was searched. Type `{COMMAND} {meant}`"
                + ("." if verb == "help" else f", or see `{COMMAND} help`."),
            ),
            meant=meant,
        )
    names = quotes.theme_names()
    name = slip_of(normalise_name(request), names)
    if name is not None and not await quotes.knows_word(request):
        theme = names[name]
        return TextReply(
            f"Did you mean `{name}`?",
            (f"Nothing was searched. `{COMMAND} {name}` shows a quote on {theme.title}.",),
            meant=name,
        )
    return None
