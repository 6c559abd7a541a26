"""The chat grammar every adapter shares: one table of verbs drives parsing, dispatch and help."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace

from bot.chat import daily_verbs, quote_verbs, stats_verb
from bot.chat.context import RequestContext
from bot.chat.quote_verbs import COMMAND
from bot.chat.replies import ListReply, QuoteReply, Reply, TextReply
from bot.daily.schedules import DAYS_FORMATS
from bot.metrics import metrics
from bot.platforms import PLATFORMS
from bot.quotes.search import clean_user_text
from bot.runtime import Core
from bot.stats.recorder import StatsRecorder

log = logging.getLogger(__name__)

Handler = Callable[[Core, str, RequestContext], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Verb:
    """One row of the grammar; `handler` gets the words after the verb. `admin_only`: all uses
    are for admins (True), none (False), or those whose words the predicate accepts (`daily on
    ...`, not `daily status`): the grammar asks the context lazily and refuses, so no adapter
    knows which verbs these are. `alone`: the verb only counts alone (`help me` is a search).
    `help_on`: the help line on a platform with its own way to do it."""

    name: str
    handler: Handler
    help: str
    admin_only: bool | Callable[[str], bool] = False
    alone: bool = False
    refusal: str = ""  # what a non-admin cannot do, e.g. "manage the daily quote"
    help_on: Mapping[str, str] = field(default_factory=dict)


async def _help(core: Core, rest: str, ctx: RequestContext) -> Reply:
    return help_reply(core, ctx.platform)


async def _themes(core: Core, rest: str, ctx: RequestContext) -> Reply:
    lines = []
    for info in core.quotes.themes():
        t = info.theme
        aliases = f" (also: {', '.join(t.aliases)})" if t.aliases else ""
        lines.append(f"`{t.slug}` {t.title}, {info.count} entries{aliases}")
    return TextReply("Themes", tuple(lines))


async def _card(core: Core, rest: str, ctx: RequestContext) -> Reply:
    """`card <request>` as a card. One hyphenated word naming no theme is an id, so a mistyped
    id says so instead of matching words."""
    word, _, words = rest.partition(" ")
    looks_like_id = "-" in rest and " " not in rest and core.quotes.resolve_theme(rest) is None
    if word.casefold() == "id":
        reply = await quote_verbs.by_id(core.quotes, words.strip())
    elif looks_like_id or await core.quotes.quote(rest) is not None:
        reply = await quote_verbs.by_id(core.quotes, rest)
    else:
        reply = (await _look_up(core, rest))[1]
    return _as_card(reply)


def _as_card(reply: Reply) -> Reply:
    """A quote shown as a card, its Another keeping the `card` in its request."""
    if isinstance(reply, QuoteReply):
        return replace(reply, card=True, request=f"card {reply.request}".strip())
    return reply


# The daily verb's help, one wording on every platform (issue 21: the help lines read alike).
DAILY_ON = "daily on 09:00 [DAYS] Europe/Berlin [theme]"
DAYS_HELP = f"DAYS: {DAYS_FORMATS}, or every day if left out"

VERBS: dict[str, Verb] = {
    v.name: v
    for v in (
        Verb(
            "search",
            lambda core, rest, ctx: quote_verbs.search_list(core.quotes, rest),
            f"`{COMMAND} search <words>` the top matches with their ids",
        ),
        Verb(
            "id",
            lambda core, rest, ctx: quote_verbs.by_id(core.quotes, rest),
            f"`{COMMAND} id <id>` one quote by its id",
        ),
        Verb("themes", _themes, f"`{COMMAND} themes` every theme and its aliases", alone=True),
        Verb("card", _card, f"`{COMMAND} card <theme, words or id>` the quote as a picture"),
        Verb(
            "daily",
            daily_verbs.answer_daily,
            f"`{COMMAND} daily` when this channel's daily quote posts (everyone); "
            f"`{COMMAND} {DAILY_ON}`, `{COMMAND} daily off` (admins); {DAYS_HELP}",
            admin_only=daily_verbs.changes_schedule,
            refusal="manage the daily quote",
            help_on={
                "discord": f"`{COMMAND} daily` when this channel's daily quote posts (everyone); "
                "`/lambert-daily set` a quote in a channel at a time, on days if you like, its "
                "time zone, theme and days suggested as you type; `/lambert-daily off` (Manage "
                f"Server); {DAYS_HELP}",
                "slack": f"`{COMMAND} daily status` when this channel's daily quote posts "
                f"(everyone); `{COMMAND} daily` opens a form with the days to tick (admins), or "
                f"type `{COMMAND} {DAILY_ON}`, `{COMMAND} daily off`; {DAYS_HELP}",
                "console": "`daily` when this channel's daily quote posts (everyone); "
                f"`{DAILY_ON}`, `daily off` (admins: `:as admin` first); {DAYS_HELP}",
            },
        ),
        Verb(
            "stats",
            stats_verb.answer_stats,
            f"`{COMMAND} stats [all] [7|30]` counts of commands and quotes here (admins)",
            admin_only=True,
            refusal="see the stats",
        ),
        Verb("help", _help, "", alone=True),
    )
}
"""Every verb, in the order help lists them. Tests may add a row; nothing else may change it."""


def strip_command(text: str) -> str:
    cleaned = clean_user_text(text, limit=10_000)
    head, _, rest = cleaned.partition(" ")
    return rest.strip() if head.casefold() == COMMAND else cleaned


def find_verb(request: str) -> tuple[Verb | None, str]:
    word, _, rest = request.partition(" ")
    verb = VERBS.get(word.casefold())
    if verb is None or (verb.alone and rest.strip()):
        return None, request
    return verb, rest.strip()


async def answer(core: Core, text: str, ctx: RequestContext | None = None) -> Reply:
    """What `/lambert <text>` replies. Never raises for any text a user can type."""
    given, ctx, started = ctx, ctx or RequestContext(), time.perf_counter()
    request = strip_command(text)
    verb, rest = find_verb(request)
    if verb is not None:  # counted: what the stats count; searched: the words searched
        counted, searched = verb.name, rest if verb.name == "search" else ""
        reply = await _refusal(verb, rest, ctx) or await verb.handler(core, rest, ctx)
    else:
        counted, reply, searched = await _look_up(core, request)
    logged = verb.name if verb else ("random" if not request else "lookup")
    # A chat request is counted in the stats; `lambert ask` (no context) is not.
    account(ctx, logged, counted, reply, started, core.stats if given else None, searched)
    return reply


def account(
    ctx: RequestContext,
    logged: str,
    counted: str,
    reply: Reply,
    started: float,
    stats: StatsRecorder | None = None,
    searched: str = "",
    recorded: str = "",
) -> None:
    """A command logged as `logged`, measured as `counted`, counted in `stats` (as `recorded`
    if given) by how it ended (quote, list, nothing: a search that found nothing, refused,
    text) and the log says which quote, how many: never the words of the request."""
    if isinstance(reply, QuoteReply):
        kind, said = "quote", f"quote={reply.quote.id} matches={reply.matches}"
    elif isinstance(reply, ListReply):
        kind, said = "list", f"list={len(reply.quotes)} total={reply.total}"
    else:
        said = "text" if reply.ok else "refused"
        kind = said if not reply.ok or not searched.strip() else "nothing"
    log.info(
        "command platform=%s channel=%s user=%s verb=%s %s",
        ctx.platform, ctx.channel, ctx.user, logged, said,
    )  # fmt: skip
    metrics().command(ctx.platform, counted, kind, started)
    if stats is not None:
        where = stats_verb.place(ctx)
        stats.command(where, recorded or counted, kind)
        if isinstance(reply, QuoteReply):
            stats.shown(where, reply.quote.theme, reply.quote.id)
        elif kind == "nothing":  # the words searched for in vain
            stats.empty_search(where, searched)


async def _look_up(core: Core, request: str) -> tuple[str, Reply, str]:
    """(what the stats count, the reply, the words searched) for a request naming no verb:
    nothing (a random quote), a theme, a slip of a verb or theme, or words (the best match)."""
    if not request:
        return "random", await quote_verbs.random_quote(core.quotes, None, request), ""
    if (theme := core.quotes.resolve_theme(request)) is not None:
        return "theme", await quote_verbs.random_quote(core.quotes, theme.slug, request), ""
    alone = " " not in request  # a verb that only counts alone may be meant
    verbs = [v.name for v in VERBS.values() if alone or not v.alone]
    if (slip := await quote_verbs.did_you_mean(core.quotes, request, verbs)) is not None:
        return "lookup", slip, ""
    return "lookup", await quote_verbs.best_match(core.quotes, request), request


async def _refusal(verb: Verb, words: str | None, ctx: RequestContext) -> TextReply | None:
    """Why this use is refused, if it is; `words` None (unknown) means the strictest use."""
    rule = verb.admin_only
    needs = rule if isinstance(rule, bool) else words is None or rule(words)
    if needs and not await ctx.is_admin():
        what = verb.refusal or f"use `{COMMAND} {verb.name}`"
        platform = PLATFORMS.get(ctx.platform)  # who counts as an admin, in its words
        means = platform.admin_means if platform else "an admin role here"
        return TextReply(
            f"Only admins can {what}.",
            (f"That needs {means}.", "Ask an admin to run the command here."),
            ok=False,
        )
    return None


async def perform(
    verb_name: str,
    ctx: RequestContext,
    work: Callable[[], Awaitable[Reply]],
    core: Core | None = None,
    words: str | None = None,
) -> Reply:
    """A structured call (Discord's `/lambert-daily set`) under the rules of the row's text form
    `words` ("on", "status"; None: the strictest); logged, counted in `core`'s stats if given."""
    verb, started = VERBS[verb_name], time.perf_counter()
    reply = await _refusal(verb, words, ctx) or await work()
    account(ctx, verb.name, verb.name, reply, started, core.stats if core else None)
    return reply


async def another(core: Core, request: str, after: str, ctx: RequestContext | None = None) -> Reply:
    """The Another button: the next match for a search, another quote otherwise; counted in
    the stats when the adapter says where (`ctx`). A `card` request stays a card."""
    started, request = time.perf_counter(), strip_command(request)
    verb, rest = find_verb(request)
    card = verb is not None and verb.name == "card"
    reply = await quote_verbs.next_quote(core.quotes, rest if card else request, after)
    reply = _as_card(reply) if card else reply
    if ctx is not None:
        account(ctx, "another", "another", reply, started, core.stats)
    return reply


def help_reply(core: Core, platform: str = "") -> TextReply:
    """The table's help lines in `platform`'s own form, then that platform's extras."""
    extras = PLATFORMS[platform].help_lines if platform in PLATFORMS else ()
    examples = ", ".join(f"`{COMMAND} {name}`" for _, name in core.quotes.themes_matching("")[:4])
    return TextReply(
        "Nathan Lambert's notes on open models, RLHF, reasoning and research careers.",
        (
            f"`{COMMAND}` a random quote",
            f"`{COMMAND} <theme>` a quote on a theme, e.g. {examples}",
            f"`{COMMAND} <words>` the best match, e.g. `{COMMAND} reward hacking`",
            *(line for v in VERBS.values() if (line := v.help_on.get(platform, v.help))),
            *extras,
            "Quotes are his words, in quotation marks with their source; summaries of his "
            "views are labelled as such and never shown as quotes.",
        ),
    )
