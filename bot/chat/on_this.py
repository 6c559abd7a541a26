""" "Lambert on this": the quote that best fits a chat message, and Another down its ranking.
The message is never stored, logged or counted: only the ranked ids travel on (in the buttons)."""

from __future__ import annotations

import asyncio
import time
import weakref

from bot.chat.context import RequestContext
from bot.chat.grammar import account
from bot.chat.replies import QuoteReply, Reply, TextReply
from bot.quotes.matching import FusedMatcher, LexicalMatcher, Matcher, meaning_installed
from bot.quotes.search import MAX_TERMS, STOPWORDS, clean_user_text, words
from bot.quotes.service import QuoteService
from bot.runtime import Core

VERB = "on-this"  # how the stats and metrics count it
DEPTH = 10  # fits offered through Another; their ids fit in a Slack button's value
MIN_WORD = 3  # shorter words ("ok", "lol" aside) carry no subject to match
MESSAGE_CHARS = 1000  # a long message is matched on its start (the rest rarely changes its gist)
NOTHING = "There is nothing in that message to match a quote to."
NO_FIT = "No quote fits that message."

_matchers: weakref.WeakKeyDictionary[QuoteService, Matcher] = weakref.WeakKeyDictionary()
_building: weakref.WeakKeyDictionary[QuoteService, asyncio.Lock] = weakref.WeakKeyDictionary()


async def matcher_for(service: QuoteService) -> Matcher:
    """The corpus's matcher, built once: words, fused with meaning if that extra is installed."""
    async with _building.setdefault(service, asyncio.Lock()):
        if service not in _matchers:
            matcher: Matcher = LexicalMatcher(service)
            if meaning_installed():
                from bot.quotes.meaning import MeaningMatcher

                matcher = FusedMatcher(matcher, await MeaningMatcher.create(service))
            _matchers[service] = matcher
        return _matchers[service]


def has_subject(text: str) -> bool:
    """Whether the message holds a word to match: not only links' absence, emoji, "ok", "+1"."""
    return any(len(w) >= MIN_WORD and w not in STOPWORDS for w in words(text)[: MAX_TERMS * 8])


async def on_this(core: Core, text: str, ctx: RequestContext) -> Reply:
    started = time.perf_counter()
    message = clean_user_text(text, limit=MESSAGE_CHARS)
    reply: Reply = TextReply(NOTHING)
    if has_subject(message):
        ranked = await (await matcher_for(core.quotes)).best(message, DEPTH)
        ids = tuple(q.id for q in ranked)
        reply = QuoteReply(ranked[0], matches=len(ids), ranked=ids) if ranked else TextReply(NO_FIT)
    account(ctx, "on this", VERB, reply, started, core.stats)
    return reply


async def another(
    core: Core, ranked: tuple[str, ...], after: str, ctx: RequestContext | None = None
) -> Reply:
    """The next fit after `after` in `ranked` (wrapping round), skipping ids the corpus lost."""
    started = time.perf_counter()
    start = ranked.index(after) + 1 if after in ranked else 0
    reply: Reply = TextReply(NO_FIT)
    for step in range(len(ranked)):
        quote = await core.quotes.quote(ranked[(start + step) % len(ranked)])
        if quote is not None:
            reply = QuoteReply(quote, matches=len(ranked), ranked=ranked)
            break
    if ctx is not None:  # counted as Another, measured as "Lambert on this"
        account(ctx, "on this another", VERB, reply, started, core.stats, recorded="another")
    return reply
