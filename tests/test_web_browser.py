"""The site in a real headless Chromium at 375 px: no console or page error (a Content-Security-
Policy violation is one), no sideways scroll, the card and the typeface load, AA contrast in
light and dark."""

from __future__ import annotations

from typing import Literal

from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, ConsoleMessage, Error

from bot.quotes.models import Kind
from bot.quotes.service import QuoteService
from tests.support.browser import browser, contrast

__all__ = ["browser"]  # the fixture, used by name

WIDTH = 375
AA = 4.5  # WCAG AA for body text


async def test_home_permalink_and_search_render_cleanly_at_375_px(
    browser: Browser, client: TestClient, service: QuoteService
) -> None:
    quote = next(q for q in await service.quotes() if q.kind is Kind.QUOTE)
    summary = next(q for q in await service.quotes() if q.kind is Kind.PARAPHRASE)
    paths = ["/", f"/q/{quote.id}", f"/q/{summary.id}", "/search?q=rewrd+hacking", "/themes"]
    for scheme in ("light", "dark"):
        await visit_all(browser, client, paths, scheme)


async def visit_all(
    browser: Browser, client: TestClient, paths: list[str], scheme: Literal["light", "dark"]
) -> None:
    context = await browser.new_context(
        viewport={"width": WIDTH, "height": 800}, color_scheme=scheme
    )
    page = await context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    def on_error(error: Error) -> None:
        problems.append(f"pageerror: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    try:
        for path in paths:
            response = await page.goto(str(client.make_url(path)), wait_until="load")
            assert response is not None and response.status == 200, path
            await page.evaluate("document.fonts.ready.then(() => true)")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= WIDTH, f"{path} scrolls sideways in {scheme}: {width} px"
            images = await page.evaluate(
                "[...document.images].map(i => [i.src, i.complete && i.naturalWidth > 0])"
            )
            assert all(ok for _, ok in images), f"{path}: broken images {images}"
            if path.startswith("/q/"):
                assert len(images) == 1 and images[0][0].endswith(f"{path}.png")
            fonts = await page.evaluate(
                "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
            )
            assert any("Lambert Serif" in f for f in fonts), f"{path}: typeface not loaded"
            for selector in ("body", ".meta, .count, .date, footer.site", "a"):
                colours = await page.evaluate(
                    """s => { const e = document.querySelector(s);
                              return [getComputedStyle(e).color,
                                      getComputedStyle(document.body).backgroundColor]; }""",
                    selector,
                )
                ratio = contrast(*colours)
                assert ratio >= AA, f"{path} {selector} in {scheme}: contrast {ratio:.2f}"
        assert problems == []
    finally:
        await context.close()
