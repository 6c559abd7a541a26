"""The site's HTML views (home, permalink, themes, search, errors), its card and static
files: each returns a `Page`, rendered once and cached."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from bot.cards import FONT_LICENSE, card_png, card_size, font_files
from bot.quotes.models import Quote, ThemeInfo
from bot.quotes.service import QuoteService
from bot.web import params
from bot.web.links import card_path, page_path, theme_path
from bot.web.page import DAILY, HTML, NO_STORE, STABLE, Page, PageCache, Problem
from bot.web.templates import description, render, shown

SEARCH_PAGE_SIZE = 10
STATIC = Path(__file__).parent / "static"
ASSET = "public, max-age=86400"
FONT_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".woff2": "font/woff2", ".woff": "font/woff"}


def utc_today() -> date:
    return datetime.now(UTC).date()


class Site:
    """Everything the site shows, independent of HTTP. `base` is the origin absolute links
    start with (LAMBERT_PUBLIC_URL, else the request's own)."""

    def __init__(
        self,
        quotes: QuoteService,
        public_url: str | None = None,
        today: Callable[[], date] = utc_today,
    ) -> None:
        self.quotes = quotes
        self.public_url = public_url
        self.today = today
        self.cache = PageCache()
        self.fonts = font_files()

    def base(self, origin: str) -> str:
        return self.public_url or origin

    async def quote_or_404(self, quote_id: str) -> Quote:
        found = await self.quotes.quote(quote_id) if len(quote_id) <= params.MAX_TEXT else None
        if found is None:
            raise Problem(404, "No quote has that id; the themes list every entry.")
        return found

    def theme_or_404(self, name: str) -> ThemeInfo:
        theme = self.quotes.resolve_theme(name) if len(name) <= params.MAX_TEXT else None
        info = self.quotes.theme_info(theme.slug) if theme else None
        if info is None:
            raise Problem(404, "No theme has that name; /themes lists them.")
        return info

    def _html(self, base: str, name: str, cache: str = DAILY, **context: object) -> Page:
        return Page(200, render(name, base=base, **context), HTML, cache)

    async def index(self, base: str) -> Page:
        day = self.today()

        async def make() -> Page:
            quote = await self.quotes.of_the_day(day)
            return self._html(
                base,
                "index.html",
                day=day,
                quote=shown(quote) if quote else None,
                themes=self._themes(),
                q="",
            )

        return await self.cache.get(("index", base, day), make)

    async def quote_page(self, base: str, quote_id: str) -> Page:
        # Cached by the id as asked, so a hit makes no database trip: with the trip first, a
        # cached page ran at 0.6-0.7x a bare aiohttp handler; without, about 1x (bench web).
        async def make() -> Page:
            quote = await self.quote_or_404(quote_id)
            width, height = card_size(quote)
            og = {
                "title": f"{quote.topic} \u00b7 {quote.theme_title}",
                "description": description(quote),
                "url": base + page_path(quote.id),
                "image": base + card_path(quote.id),
                "width": width,
                "height": height,
            }
            return self._html(base, "quote.html", cache=STABLE, quote=shown(quote), og=og)

        return await self.cache.get(("quote", base, quote_id), make)

    async def card(self, quote_id: str) -> Page:
        async def make() -> Page:
            quote = await self.quote_or_404(quote_id)
            # Tens of milliseconds of drawing on a first request: off the event loop.
            png = await asyncio.to_thread(card_png, quote)
            return Page(200, png, "image/png", STABLE)

        return await self.cache.get(("card", quote_id), make)

    def _themes(self) -> list[dict[str, object]]:
        return [
            {"title": i.theme.title, "count": i.count, "url": theme_path(i.theme.slug)}
            for i in self.quotes.themes()
        ]

    async def themes(self, base: str) -> Page:
        async def make() -> Page:
            return self._html(base, "themes.html", cache=STABLE, themes=self._themes())

        return await self.cache.get(("themes", base), make)

    async def theme(self, base: str, name: str) -> Page:
        info = self.theme_or_404(name)

        async def make() -> Page:
            quotes = await self.quotes.quotes(info.theme.slug)
            return self._html(
                base,
                "theme.html",
                cache=STABLE,
                theme=info.theme,
                quotes=[shown(q) for q in quotes],
            )

        return await self.cache.get(("theme", base, info.theme.slug), make)

    async def search(self, base: str, query: Mapping[str, str]) -> Page:
        text = params.text(query, "q")
        page = params.number(query, "page", 1, params.MAX_PAGE)

        async def make() -> Page:
            found = await self.quotes.search(text, limit=SEARCH_PAGE_SIZE * page)
            skipped = SEARCH_PAGE_SIZE * (page - 1)
            results = found.quotes[skipped:]
            pages = -(-found.total // SEARCH_PAGE_SIZE)
            return self._html(
                base,
                "search.html",
                q=text,
                page=page,
                first=skipped + 1,
                total=found.total,
                corrected=found.corrected,
                quotes=[shown(q) for q in results],
                previous=page - 1 if page > 1 else None,
                next=page + 1 if page < min(pages, params.MAX_PAGE) else None,
            )

        return await self.cache.get(("search", base, " ".join(text.split()), page), make)

    def error(self, base: str, problem: Problem) -> Page:
        body = render("error.html", base=base, status=problem.status, message=problem.message)
        return Page(problem.status, body, HTML, NO_STORE)

    async def style(self) -> Page:
        async def make() -> Page:
            faces = [_font_face(name) for name in sorted(self.fonts)]
            return Page(200, render("style.css", faces=faces), "text/css; charset=utf-8", ASSET)

        return await self.cache.get(("style",), make)

    async def static(self, name: str) -> Page:
        """A file of static/ (the favicon), a font file, or the fonts' licence."""
        if name in self.fonts:
            path, kind = self.fonts[name], FONT_TYPES.get(self.fonts[name].suffix, "font/ttf")
        elif name == "LICENSE.txt":
            path, kind = FONT_LICENSE, "text/plain; charset=utf-8"
        elif name == "favicon.svg":
            path, kind = STATIC / name, "image/svg+xml"
        else:
            raise Problem(404, "No such file.")
        return await self.cache.get(
            ("static", name), lambda: asyncio.to_thread(_file_page, path, kind)
        )


def _file_page(path: Path, kind: str) -> Page:
    return Page(200, path.read_bytes(), kind, ASSET)


def _font_face(name: str) -> dict[str, str]:
    """@font-face values for a font file named like SourceSerifPro-Semibold.ttf."""
    style = name.rsplit(".", 1)[0].rsplit("-", 1)[-1].casefold()
    weight = "600" if "semi" in style else "700" if "bold" in style else "400"
    return {
        "url": f"/fonts/{name}",
        "format": {".otf": "opentype", ".woff2": "woff2", ".woff": "woff"}.get(
            Path(name).suffix, "truetype"
        ),
        "style": "italic" if style.startswith("it") or "italic" in style else "normal",
        "weight": weight,
    }
