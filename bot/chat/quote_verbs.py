"""The quote verbs: random, by id, a search list, the best match, Another; and "Did you mean"."""

from __future__ import annotations

from collections.abc import Iterable

from bot.chat.replies import ListReply, QuoteReply, Reply, TextReply, cut
from bot.quotes.search import clean_user_text, normalise_name
from bot.quotes.service import QuoteService, SearchResult

COMMAND = "/lambert"
SEARCH_LIST_SIZE = 5
ANOTHER_POOL = 50  # how deep "Another" walks down a search's ranking before wrapping
ECHO_CHARS = 60  # user text quoted back in a reply is cut here
MAX_PAGE = 1000  # past it a trailing number is words to search, not a page
MIN_SLIP_LENGTH = 3  # "is" is one slip from "id": two-letter words are never taken for slips


def echo(text: str) -> str:
    return f"\u201c{cut(text, ECHO_CHARS)}\u201d"


async def random_quote(
    service: QuoteService, theme: str | None, request: str, exclude: str | None = None
) -> Reply:
    quote = await service.random_quote(theme, exclude)
    if quote is None:
        return TextReply("The corpus is empty.", ("Check LAMBERT_CORPUS and restart.",), ok=False)
    return QuoteReply(quote, matches=service.count(theme), request=request)


async def by_id(service: QuoteService, quote_id: str) -> Reply:
    if not quote_id:
        return TextReply("Which id?", (f"Usage: {COMMAND} id <id>, e.g. the id under any quote.",))
    quote = await service.quote(quote_id)
    if quote is not None:
        return QuoteReply(quote, request=f"id {quote.id}")
    close = await service.close_ids(quote_id.casefold())
    lines = [f"Did you mean: {', '.join(close)}?"] if close else []
    lines.append(f"Try `{COMMAND} search <words>` to find a quote's id.")
    return TextReply(f"No quote has the id {echo(quote_id)}.", tuple(lines))


async def search_list(service: QuoteService, text: str) -> Reply:
    """`search <words> [page]`: a trailing number is a page only when there are that many pages
    (`search gpt 4` with few results searches "4")."""
    if not clean_user_text(text):
        return TextReply("Search for what?", (f"Usage: {COMMAND} search <words> [page]",))
    words, _, last = text.rpartition(" ")
    if words.strip() and last.isascii() and last.isdigit() and 1 < int(last) <= MAX_PAGE:
        page = int(last)
        found = await service.search(words, limit=SEARCH_LIST_SIZE * page)
        if found.total > SEARCH_LIST_SIZE * (page - 1):
            return _page(words, found, page)
    found = await service.search(text, limit=SEARCH_LIST_SIZE)
    if not found.quotes:
        return nothing_found(service, text)
    return _page(text, found, 1)


def _page(words: str, found: SearchResult, page: int) -> ListReply:
    skipped = SEARCH_LIST_SIZE * (page - 1)
    title = f"{found.total} quote{'s' if found.total != 1 else ''} match {echo(words)}"
    if found.corrected:
        title += f" (showing results for {echo(found.corrected)})"
    more = f"search {words} {page + 1}" if found.total > skipped + SEARCH_LIST_SIZE else ""
    return ListReply(title, found.quotes[skipped:], found.total, skipped + 1, more)


async def best_match(service: QuoteService, request: str) -> Reply:
    found = await service.search(request, limit=1)
    if not found.quotes:
        return nothing_found(service, request)
    notes = []
    if found.corrected:
        notes.append(f"Showing results for {echo(found.corrected)}.")
    if found.total > 1:
        more = found.total - 1
        notes.append(
            f"{more} more quote{'s' if more != 1 else ''} match: "
            f"`{COMMAND} search {clean_user_text(request, limit=ECHO_CHARS)}` lists them."
        )
    return QuoteReply(found.quotes[0], found.total, request, " ".join(notes))


async def next_quote(service: QuoteService, request: str, after: str) -> Reply:
    verb, _, rest = request.partition(" ")
    if verb.casefold() == "id":
        return await by_id(service, rest)
    theme = service.resolve_theme(request) if request else None
    if not request or theme is not None:
        return await random_quote(service, theme.slug if theme else None, request, after)
    words = rest if verb.casefold() == "search" else request
    found = await service.search(words, limit=ANOTHER_POOL)
    if not found.quotes:
        return nothing_found(service, words)
    ids = [q.id for q in found.quotes]
    following = (ids.index(after) + 1) % len(ids) if after in ids else 0
    return QuoteReply(found.quotes[following], matches=found.total, request=request)


def nothing_found(service: QuoteService, text: str) -> TextReply:
    close = service.closest_themes(text)
    if close:
        hint = "Closest themes: " + ", ".join(f"`{COMMAND} {t.slug}`" for t in close) + "."
    else:
        example = service.example_theme()
        such_as = f"Try a theme such as `{COMMAND} {example}`, or see" if example else "See"
        hint = f"{such_as} `{COMMAND} themes`."
    return TextReply(
        f"No quote matches {echo(text)}." if text else "Nothing to show.",
        (hint, f"`{COMMAND}` on its own shows a random quote."),
    )


def one_slip(typed: str, name: str) -> bool:
    """Whether `typed` is `name` with one letter wrong, missing or extra, or two neighbours
    swapped (`serach`, `hepl`, `themse`): the optimal string alignment distance 1."""
    if typed == name or abs(len(typed) - len(name)) > 1:
        return False
    if len(typed) == len(name):
        diff = [i for i, (a, b) in enumerate(zip(typed, name, strict=True)) if a != b]
        i, j = [*diff, 0, 0][:2]
        swapped = len(diff) == 2 and j == i + 1 and typed[i] == name[j] and typed[j] == name[i]
        return len(diff) == 1 or swapped
    shorter, longer = sorted((typed, name), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def slip_of(typed: str, names: Iterable[str]) -> str | None:
    """The one name `typed` is a slip of; None when none, or when it could be several."""
    if len(typed) < MIN_SLIP_LENGTH:
        return None
    found = {name for name in names if one_slip(typed, name)}
    return found.pop() if len(found) == 1 else None


async def did_you_mean(quotes: QuoteService, request: str, verbs: list[str]) -> TextReply | None:
    """ "Did you mean" for a first word one slip from a verb, or a request one slip from a theme
    name; never for a word the corpus has (`helps` may be meant): a real search is searched."""
    word, _, rest = request.partition(" ")
    verb = slip_of(word.casefold(), verbs)
    if verb is not None and not await quotes.knows_word(word):
        meant = f"{verb} {rest}".strip()
        then = "." if verb == "help" else f", or see `{COMMAND} help`."
        line = f"Nothing was searched. Type `{COMMAND} {meant}`{then}"
        return TextReply(f"Did you mean `{meant}`?", (line,), meant=meant)
    names = quotes.theme_names()
    name = slip_of(normalise_name(request), names)
    if name is not None and not await quotes.knows_word(request):
        line = f"Nothing was searched. `{COMMAND} {name}` shows a quote on {names[name].title}."
        return TextReply(f"Did you mean `{name}`?", (line,), meant=name)
    return None
