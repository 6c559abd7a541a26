"""The chat grammar shared by every adapter: the text after `/lambert` in, a neutral Reply out."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass

from bot.chat.daily_verbs import answer_daily
from bot.chat.replies import ListReply, QuoteReply, Reply, TextReply
from bot.quotes.search import clean_user_text
from bot.quotes.service import QuoteService

COMMAND = "/lambert"
SEARCH_LIST_SIZE = 5
ANOTHER_POOL = 50  # how deep "Another" walks down a search's ranking before wrapping
ECHO_CHARS = 60  # user text quoted back in a reply is cut here
ID_CANDIDATES = 500  # ids difflib compares for "did you mean": a few milliseconds at most
VERBS = frozenset({"help", "themes", "id", "search", "daily"})

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asked, where. `is_admin` is decided by the adapter, which knows the platform's roles,
    and `admin_means` says in the platform's words who counts, for a refusal to name it."""

    platform: str = "console"
    channel: str = "console"
    user: str = "console"
    user_name: str = ""
    is_admin: bool = False
    admin_means: str = "an admin role here"


def strip_command(text: str) -> str:
    """`/lambert dpo` and `dpo` mean the same: adapters pass what follows the command name."""
    cleaned = clean_user_text(text, limit=10_000)
    head, _, rest = cleaned.partition(" ")
    return rest.strip() if head.casefold() == COMMAND else cleaned


def echo(text: str) -> str:
    cut = text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "\u2026"
    return f"\u201c{cut}\u201d"


def outcome(reply: Reply) -> str:
    """A log-sized summary of a reply: which quote, how many, or that it refused; never the text."""
    if isinstance(reply, QuoteReply):
        return f"quote={reply.quote.id} matches={reply.matches}"
    if isinstance(reply, ListReply):
        return f"list={len(reply.quotes)} total={reply.total}"
    return "text" if reply.ok else "refused"


async def answer(service: QuoteService, text: str, ctx: RequestContext | None = None) -> Reply:
    """What `/lambert <text>` replies. Never raises for any text a user can type."""
    ctx = ctx or RequestContext()
    request = strip_command(text)
    reply = await _answer(service, request, ctx)
    verb = request.partition(" ")[0].casefold()
    log.info(
        "command platform=%s channel=%s user=%s verb=%s %s",
        ctx.platform,
        ctx.channel,
        ctx.user,
        verb if verb in VERBS else ("random" if not verb else "lookup"),
        outcome(reply),
    )
    return reply


async def _answer(service: QuoteService, request: str, ctx: RequestContext) -> Reply:
    verb, _, rest = request.partition(" ")
    verb = verb.casefold()
    if not request:
        return await _random(service, None, request)
    if verb == "help" and not rest:
        return help_reply(service)
    if verb == "themes" and not rest:
        return themes_reply(service)
    if verb == "id":
        return await _by_id(service, rest)
    if verb == "search":
        return await _search_list(service, rest)
    if verb == "daily":
        return await answer_daily(service, rest, ctx)
    theme = service.resolve_theme(request)
    if theme is not None:
        return await _random(service, theme.slug, request)
    return await _best_match(service, request)


async def another(service: QuoteService, request: str, after: str) -> Reply:
    """The "Another" / "Shuffle" button: the next match for a search, another quote otherwise."""
    reply = await _another(service, strip_command(request), after)
    log.info("button another %s", outcome(reply))
    return reply


async def _another(service: QuoteService, request: str, after: str) -> Reply:
    verb, _, rest = request.partition(" ")
    if verb.casefold() == "id":
        return await _by_id(service, rest)
    theme = service.resolve_theme(request) if request else None
    if not request or theme is not None:
        slug = theme.slug if theme else None
        quote = await service.random_quote(slug, exclude=after)
        if quote is None:
            return _nothing_found(service, request)
        return QuoteReply(quote, matches=service.count(slug), request=request)
    words = rest if verb.casefold() == "search" else request
    found = await service.search(words, limit=ANOTHER_POOL)
    if not found.quotes:
        return _nothing_found(service, words)
    ids = [q.id for q in found.quotes]
    following = (ids.index(after) + 1) % len(ids) if after in ids else 0
    return QuoteReply(found.quotes[following], matches=found.total, request=request)


async def _random(service: QuoteService, theme: str | None, request: str) -> Reply:
    quote = await service.random_quote(theme)
    if quote is None:
        return TextReply("The corpus is empty.", ("Check LAMBERT_CORPUS and restart.",), ok=False)
    return QuoteReply(quote, matches=service.count(theme), request=request)


async def _by_id(service: QuoteService, quote_id: str) -> Reply:
    if not quote_id:
        return TextReply("Which id?", (f"Usage: {COMMAND} id <id>, e.g. the id under any quote.",))
    quote = await service.quote(quote_id)
    if quote is not None:
        return QuoteReply(quote, request=f"id {quote.id}")
    close = await _close_ids(service, quote_id.casefold())
    lines = [f"Did you mean: {', '.join(close)}?"] if close else []
    lines.append(f"Try `{COMMAND} search <words>` to find a quote's id.")
    return TextReply(f"No quote has the id {echo(quote_id)}.", tuple(lines))


async def _close_ids(service: QuoteService, typed: str) -> list[str]:
    """The three ids most like `typed`, among ids that share its start.

    An id is typed from one seen in chat, so a slip is rarely in its first letters; comparing
    only those candidates keeps difflib to at most ID_CANDIDATES ids on any corpus.
    """
    candidates: list[str] = []
    for length in (3, 1):
        if len(typed) >= length and not candidates:
            candidates = await service.store.ids_starting_with(typed[:length], ID_CANDIDATES)
    return difflib.get_close_matches(typed, candidates, n=3, cutoff=0.6)


async def _search_list(service: QuoteService, words: str) -> Reply:
    if not clean_user_text(words):
        return TextReply("Search for what?", (f"Usage: {COMMAND} search <words>",))
    found = await service.search(words, limit=SEARCH_LIST_SIZE)
    if not found.quotes:
        return _nothing_found(service, words)
    title = f"{found.total} quote{'s' if found.total != 1 else ''} match {echo(words)}"
    if found.corrected:
        title += f" (showing results for {echo(found.corrected)})"
    return ListReply(title, found.quotes, found.total)


async def _best_match(service: QuoteService, request: str) -> Reply:
    found = await service.search(request, limit=1)
    if not found.quotes:
        return _nothing_found(service, request)
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


def _nothing_found(service: QuoteService, text: str) -> TextReply:
    close = service.closest_themes(text)
    if close:
        hint = "Closest themes: " + ", ".join(f"`{COMMAND} {t.slug}`" for t in close) + "."
    else:
        hint = f"Try a theme such as `{COMMAND} dpo`, or see `{COMMAND} themes`."
    return TextReply(
        f"No quote matches {echo(text)}." if text else "Nothing to show.",
        (hint, f"`{COMMAND}` on its own shows a random quote."),
    )


def help_reply(service: QuoteService) -> TextReply:
    examples = ", ".join(
        f"`{COMMAND} {i.theme.aliases[0] if i.theme.aliases else i.theme.slug}`"
        for i in service.themes()[:4]
    )
    return TextReply(
        "Nathan Lambert's notes on open models, RLHF, reasoning and research careers.",
        (
            f"`{COMMAND}` a random quote",
            f"`{COMMAND} <theme>` a quote on a theme, e.g. {examples}",
            f"`{COMMAND} <words>` the best match, e.g. `{COMMAND} reward hacking`",
            f"`{COMMAND} search <words>` the top matches with their ids",
            f"`{COMMAND} id <id>` one quote by its id",
            f"`{COMMAND} themes` every theme and its aliases",
            f"`{COMMAND} daily on 09:00 Europe/Berlin [theme]` a quote here every day; "
            f"`{COMMAND} daily off`, `{COMMAND} daily` for status (admins)",
            "Quotes are his words, in quotation marks with their source; summaries of his "
            "views are labelled as such and never shown as quotes.",
        ),
    )


def themes_reply(service: QuoteService) -> TextReply:
    lines = []
    for info in service.themes():
        t = info.theme
        aliases = f" (also: {', '.join(t.aliases)})" if t.aliases else ""
        lines.append(f"`{t.slug}` {t.title}, {info.count} entries{aliases}")
    return TextReply("Themes", tuple(lines))
