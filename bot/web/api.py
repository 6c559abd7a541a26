"""/api/v1: the `lambert ask --json` quote object plus its `url` and `card_url`, lists of
them, themes as `lambert themes --json`, and errors as {"error": "..."}."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.quotes.models import Quote
from bot.web import params
from bot.web.links import card_path, page_path
from bot.web.page import DAILY, JSON, NO_STORE, STABLE, Page, Problem
from bot.web.site import SEARCH_PAGE_SIZE, Site

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_LIST_PAGE = 100_000


def quote_json(base: str, quote: Quote) -> dict[str, Any]:
    return {
        **quote.as_json(),
        "url": base + page_path(quote.id),
        "card_url": base + card_path(quote.id),
    }


def _page(payload: object, cache: str = STABLE, status: int = 200) -> Page:
    body = json.dumps(payload, ensure_ascii=False, indent=1).encode() + b"\n"
    return Page(status, body, JSON, cache)


def error(problem: Problem) -> Page:
    return _page({"error": problem.message}, NO_STORE, problem.status)


def listing(base: str, quotes: list[Quote], total: int, page: int, per_page: int) -> Page:
    return _page(
        {
            "total": total,
            "page": page,
            "per_page": per_page,
            "quotes": [quote_json(base, q) for q in quotes],
        },
        DAILY,
    )


def _theme(site: Site, query: Mapping[str, str]) -> str | None:
    name = params.text(query, "theme")
    return site.theme_or_404(name).theme.slug if name else None


async def quotes(site: Site, base: str, query: Mapping[str, str]) -> Page:
    theme = _theme(site, query)
    page = params.number(query, "page", 1, MAX_LIST_PAGE)
    per_page = params.number(query, "per_page", PER_PAGE, MAX_PER_PAGE)
    return await all_quotes(site, base, theme, page, per_page)


async def all_quotes(site: Site, base: str, theme: str | None, page: int, per_page: int) -> Page:
    """A page of the corpus (or a theme) in corpus order; the static export asks for all."""

    async def make() -> Page:
        found = await site.quotes.quotes(theme, (page - 1) * per_page, per_page)
        return listing(base, found, site.quotes.count(theme), page, per_page)

    return await site.cache.get(("api quotes", base, theme, page, per_page), make)


async def quote(site: Site, base: str, quote_id: str) -> Page:
    async def make() -> Page:
        return _page(quote_json(base, await site.quote_or_404(quote_id)))

    return await site.cache.get(("api quote", base, quote_id), make)


async def random(site: Site, base: str, query: Mapping[str, str]) -> Page:
    theme = _theme(site, query)
    found = await site.quotes.random_quote(theme)
    if found is None:
        raise Problem(404, "The corpus is empty.")
    return _page(quote_json(base, found), NO_STORE)


async def search(site: Site, base: str, query: Mapping[str, str]) -> Page:
    text = params.text(query, "q")
    if not text:
        raise Problem(400, "q is empty; send the words to search for, e.g. q=reward+hacking")
    page = params.number(query, "page", 1, params.MAX_PAGE)

    async def make() -> Page:
        found = await site.quotes.search(text, limit=SEARCH_PAGE_SIZE * page)
        shown = list(found.quotes[SEARCH_PAGE_SIZE * (page - 1) :])
        return listing(base, shown, found.total, page, SEARCH_PAGE_SIZE)

    return await site.cache.get(("api search", base, " ".join(text.split()), page), make)


async def themes(site: Site) -> Page:
    async def make() -> Page:
        return _page({"themes": [i.as_json() for i in site.quotes.themes()]})

    return await site.cache.get(("api themes",), make)


async def today(site: Site, base: str) -> Page:
    day = site.today()

    async def make() -> Page:
        found = await site.quotes.of_the_day(day)
        if found is None:
            raise Problem(404, "The corpus is empty.")
        return _page(quote_json(base, found), DAILY)

    return await site.cache.get(("api today", base, day), make)
