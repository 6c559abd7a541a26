"""/feed.atom: the quote of the day for the last 30 (UTC) days, Atom 1.0 through feedgen."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from feedgen.feed import FeedGenerator

from bot.web.links import permalink
from bot.web.page import DAILY, Page
from bot.web.site import Site
from bot.web.templates import description

DAYS = 30
ATOM = "application/atom+xml; charset=utf-8"


async def feed(site: Site, base: str) -> Page:
    day = site.today()

    async def make() -> Page:
        gen = FeedGenerator()
        gen.id(f"{base}/feed.atom")
        gen.title("lambert: quote of the day")
        gen.subtitle("A quote or summary of Nathan Lambert's views each day, with its source.")
        gen.link(href=f"{base}/", rel="alternate")
        gen.link(href=f"{base}/feed.atom", rel="self")
        gen.generator("lambert")  # no version: the same corpus gives the same bytes
        gen.updated(datetime.combine(day, time(), UTC))
        gen.language("en")
        # feedgen writes entries newest first when each is added first (order="prepend").
        for back in range(DAYS - 1, -1, -1):
            shown = day - timedelta(days=back)
            quote = await site.quotes.of_the_day(shown)
            if quote is None:
                break
            url = permalink(base, quote.id)
            entry = gen.add_entry()
            entry.id(f"{url}#{shown.isoformat()}")  # one entry per day, even for a repeat
            entry.title(f"{shown.isoformat()}: {quote.topic}")
            entry.link(href=url, rel="alternate")
            entry.author({"name": "lambert"})
            entry.summary(description(quote))
            entry.updated(datetime.combine(shown, time(), UTC))
            entry.published(datetime.combine(shown, time(), UTC))
        return Page(200, gen.atom_str(pretty=True), ATOM, DAILY)

    return await site.cache.get(("feed", base, day), make)
