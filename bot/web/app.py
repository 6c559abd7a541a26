"""The site over HTTP (aiohttp): routes to the views, ETags and 304s, the security headers,
and bounded requests. `add_routes` mounts it on any app (`lambert serve` adds it beside the
probes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.web import api
from bot.web.feed import feed
from bot.web.page import Page, Problem
from bot.web.site import Site

View = Callable[[web.Request, str], Awaitable[Page]]

# No inline script or style anywhere, and nothing from elsewhere: a page that tried would be
# refused by the browser (and the browser test would see it).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# The site answers GETs only: a request line, a header or a body past these is refused by
# aiohttp with a 4xx before any view runs.
LIMITS: dict[str, Any] = {
    "max_line_size": 4096,
    "max_field_size": 4096,
    "max_headers": 64,
    "keepalive_timeout": 15.0,
}
CLIENT_MAX_SIZE = 16 * 1024


def origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _matches(header: str, etag: str) -> bool:
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def respond(request: web.Request, page: Page, *, cors: bool = False) -> web.Response:
    headers = {**SECURITY, "Cache-Control": page.cache, "ETag": page.etag}
    if cors:
        headers["Access-Control-Allow-Origin"] = "*"
    if page.status == 200 and _matches(request.headers.get("If-None-Match", ""), page.etag):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = page.content_type  # as given: aiohttp would add a charset
    return web.Response(status=page.status, body=page.body, headers=headers)


def add_routes(app: web.Application, site: Site) -> None:
    """Every route of docs/web.md, answered by `site`."""

    def html(view: View) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            base = site.base(origin(request))
            try:
                page = await view(request, base)
            except Problem as problem:
                page = site.error(base, problem)
            return respond(request, page)

        return handle

    def json(view: View) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                page = await view(request, site.base(origin(request)))
            except Problem as problem:
                page = api.error(problem)
            return respond(request, page, cors=True)

        return handle

    async def not_found(request: web.Request, base: str) -> Page:
        raise Problem(404, "Nothing lives at this address.")

    def match(name: str) -> Callable[[web.Request], str]:
        return lambda request: request.match_info[name]

    quote_id, slug, file = match("id"), match("slug"), match("name")
    get = app.router.add_get  # HEAD too (aiohttp's allow_head)
    get("/", html(lambda r, b: site.index(b)))
    get("/q/{id}.png", html(lambda r, b: site.card(quote_id(r))))
    get("/q/{id}", html(lambda r, b: site.quote_page(b, quote_id(r))))
    get("/themes", html(lambda r, b: site.themes(b)))
    get("/themes/{slug}", html(lambda r, b: site.theme(b, slug(r))))
    get("/search", html(lambda r, b: site.search(b, r.query)))
    get("/feed.atom", html(lambda r, b: feed(site, b)))
    get("/static/style.css", html(lambda r, b: site.style()))
    get("/favicon.svg", html(lambda r, b: site.static("favicon.svg")))
    get("/fonts/{name}", html(lambda r, b: site.static(file(r))))
    get("/api/v1/quotes", json(lambda r, b: api.quotes(site, b, r.query)))
    get("/api/v1/quotes/{id}", json(lambda r, b: api.quote(site, b, quote_id(r))))
    get("/api/v1/random", json(lambda r, b: api.random(site, b, r.query)))
    get("/api/v1/search", json(lambda r, b: api.search(site, b, r.query)))
    get("/api/v1/themes", json(lambda r, b: api.themes(site)))
    get("/api/v1/today", json(lambda r, b: api.today(site, b)))
    get("/api/{tail:.*}", json(not_found))
    get("/{tail:.*}", html(not_found))


def create_app(site: Site) -> web.Application:
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    add_routes(app, site)
    return app
