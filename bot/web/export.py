"""`lambert site build DIR`: every page, card, JSON answer and the feed as files for a static
host, rendered by the very views the server answers with."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.web import api
from bot.web.feed import feed
from bot.web.page import Page, Problem
from bot.web.site import Site


async def build(site: Site, base: str, folder: Path) -> int:
    """Write the site under `folder` with absolute links on `base`; returns the files written."""
    pages: dict[str, Page] = {
        "index.html": await site.index(base),
        "themes/index.html": await site.themes(base),
        "search/index.html": await site.search(base, {}),
        "404.html": site.error(base, Problem(404, "Nothing lives at this address.")),
        "feed.atom": await feed(site, base),
        "static/style.css": await site.style(),
        "favicon.svg": await site.static("favicon.svg"),
        "fonts/LICENSE.txt": await site.static("LICENSE.txt"),
        "api/v1/themes.json": await api.themes(site),
        "api/v1/today.json": await api.today(site, base),
        # The whole corpus on one page: a static host cannot page on a query string.
        "api/v1/quotes.json": await api.all_quotes(
            site, base, None, 1, max(site.quotes.count(), 1)
        ),
    }
    for name in site.fonts:
        pages[f"fonts/{name}"] = await site.static(name)
    for info in site.quotes.themes():
        pages[f"themes/{info.theme.slug}/index.html"] = await site.theme(base, info.theme.slug)
    await asyncio.to_thread(_write, folder, pages)
    written = len(pages)
    # Ids and slugs are checked by the corpus reader (a-z, 0-9, hyphens): safe file names.
    # Written a quote at a time: a big corpus's cards would not all fit in memory.
    for quote in await site.quotes.quotes():
        one = {
            f"q/{quote.id}/index.html": await site.quote_page(base, quote.id),
            f"q/{quote.id}.png": await site.card(quote.id),
            f"api/v1/quotes/{quote.id}.json": await api.quote(site, base, quote.id),
        }
        await asyncio.to_thread(_write, folder, one)
        written += len(one)
    return written


def _write(folder: Path, pages: dict[str, Page]) -> None:
    for name, page in pages.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(page.body)
