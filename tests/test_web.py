"""The web site's routes through aiohttp's test client: pages, Open Graph, the card, the API
shapes, the feed, caching headers and refusals."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote as quote_path

import feedparser
import pytest
from aiohttp.test_utils import TestClient
from markupsafe import escape as markup_escape

from bot.cards import card_png, card_size
from bot.quotes.models import Kind, Quote, credit_line, summary_label
from bot.quotes.service import QuoteService
from bot.web.app import CSP
from bot.web.links import permalink
from tests.support.hostile import HOSTILE
from tests.support.web import DAY, PUBLIC, Head, origin


async def all_quotes(service: QuoteService) -> list[Quote]:
    return await service.quotes()


async def get_json(client: TestClient, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return json.loads(await response.text())


def first_of(service: QuoteService, kind: Kind) -> Any:
    async def find() -> Quote:
        return next(q for q in await service.quotes() if q.kind is kind)

    return find()


async def test_the_home_page_shows_the_quote_of_the_day_the_themes_and_a_search_box(
    client: TestClient, service: QuoteService
) -> None:
    today = await service.of_the_day(DAY)
    assert today is not None
    response = await client.get("/")
    html = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'href="/q/{today.id}"' in html
    for info in service.themes():
        assert f'href="/themes/{info.theme.slug}"' in html
    assert '<form class="search" role="search" action="/search" method="get">' in html
    assert '<label for="q">' in html
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html


async def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/q/nope", "/api/v1/themes", "/static/style.css", "/feed.atom"):
        response = await client.get(path)
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in CSP
    assert "unsafe-inline" not in CSP and "script-src" not in CSP  # default-src 'none' covers it


async def test_a_permalink_has_open_graph_tags_with_absolute_addresses(
    client: TestClient, service: QuoteService
) -> None:
    quote = await first_of(service, Kind.QUOTE)
    html = await (await client.get(f"/q/{quote.id}")).text()
    head = Head(html)
    base = origin(client)
    width, height = card_size(quote)
    assert head.meta["og:url"] == f"{base}/q/{quote.id}"
    assert head.links["canonical"] == f"{base}/q/{quote.id}"
    assert head.meta["og:image"] == f"{base}/q/{quote.id}.png"
    assert (head.meta["og:image:width"], head.meta["og:image:height"]) == (str(width), str(height))
    assert head.meta["twitter:card"] == "summary_large_image"
    assert quote.topic in head.meta["og:title"]
    assert quote.text in head.meta["og:description"]


async def test_lambert_public_url_makes_every_absolute_link(
    public_client: TestClient, service: QuoteService
) -> None:
    quote = await first_of(service, Kind.QUOTE)
    head = Head(await (await public_client.get(f"/q/{quote.id}")).text())
    assert head.meta["og:url"] == permalink(PUBLIC, quote.id)
    assert head.meta["og:image"] == f"{PUBLIC}/q/{quote.id}.png"
    found = await get_json(public_client, f"/api/v1/quotes/{quote.id}")
    assert (found["url"], found["card_url"]) == (f"{PUBLIC}/q/{quote.id}", head.meta["og:image"])
    feed = feedparser.parse(await (await public_client.get("/feed.atom")).text())
    assert all(e.link.startswith(f"{PUBLIC}/q/") for e in feed.entries)


async def test_every_entry_shows_his_words_in_marks_and_a_summary_never(
    client: TestClient, service: QuoteService
) -> None:
    for quote in await all_quotes(service):
        html = await (await client.get(f"/q/{quote.id}")).text()
        main = html[html.index("<main") : html.index("</main>")]
        marked = f"\u201c{quote.text}\u201d"
        if quote.kind is Kind.QUOTE:
            assert f"<blockquote><p>{escape(marked)}</p></blockquote>" in main
            assert escape(credit_line(quote)) in main
            assert escape(f"\u2014 Nathan Lambert, {quote.source}") in main
        else:
            assert escape(marked) not in html and "<blockquote" not in main
            assert f'<p class="label">{escape(summary_label(quote))}</p>' in main
            assert f'<p class="text">{escape(quote.text)}</p>' in main
            assert "Nathan Lambert said" not in html
        assert escape(quote.theme_title) in main and escape(quote.topic) in main
        assert f"Source</dt><dd>{escape(quote.source)}</dd>" in main


def escape(text: str) -> str:
    return str(markup_escape(text))


async def test_the_card_route_serves_the_cards_png(
    client: TestClient, service: QuoteService
) -> None:
    quote = await first_of(service, Kind.PARAPHRASE)
    response = await client.get(f"/q/{quote.id}.png")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert await response.read() == card_png(quote)


async def test_a_theme_page_links_every_entry_of_the_theme(
    client: TestClient, service: QuoteService
) -> None:
    themes = Head(await (await client.get("/themes")).text()).anchors
    for info in service.themes():
        assert f"/themes/{info.theme.slug}" in themes
        anchors = Head(await (await client.get(f"/themes/{info.theme.slug}")).text()).anchors
        ids = [q.id for q in await service.quotes(info.theme.slug)]
        assert len(ids) == info.count
        assert [a for a in anchors if a.startswith("/q/")] == [f"/q/{i}" for i in ids]
    alias = next(i.theme for i in service.themes() if i.theme.aliases)
    assert (await client.get(f"/themes/{alias.aliases[0]}")).status == 200


async def test_search_is_the_chat_search_ranked_typo_tolerant_and_paged(
    client: TestClient, service: QuoteService
) -> None:
    expected = await service.search("rewrd hackng", limit=10)
    assert expected.quotes and expected.corrected
    html = await (await client.get("/search", params={"q": "rewrd hackng"})).text()
    shown = [a for a in Head(html).anchors if a.startswith("/q/")]
    assert shown == [f"/q/{q.id}" for q in expected.quotes]
    assert f"Showing results for <strong>{expected.corrected}</strong>" in html

    many = await service.search("model", limit=20)
    assert many.total > 10
    second = await client.get("/search", params={"q": "model", "page": "2"})
    links = [a for a in Head(await second.text()).anchors if a.startswith("/q/")]
    assert links == [f"/q/{q.id}" for q in many.quotes[10:20]]
    api = await get_json(client, "/api/v1/search?q=model&page=2")
    assert (api["total"], api["page"], api["per_page"]) == (many.total, 2, 10)
    assert [q["id"] for q in api["quotes"]] == [q.id for q in many.quotes[10:20]]


@pytest.mark.parametrize(
    "query",
    [
        {"q": "x" * 201},
        {"q": "dpo", "page": "0"},
        {"q": "dpo", "page": "101"},
        {"q": "dpo", "page": "9" * 50},
        {"q": "dpo", "page": "two"},
        {"q": "dpo", "page": "+1"},
    ],
)
async def test_an_oversized_or_malformed_query_is_a_400_with_a_reason(
    client: TestClient, query: dict[str, str]
) -> None:
    html = await client.get("/search", params=query)
    assert html.status == 400
    assert "must be" in await html.text() or "at most 200" in await html.text()
    api = await client.get("/api/v1/search", params=query)
    assert api.status == 400
    assert set(json.loads(await api.text())) == {"error"}


async def test_a_request_line_past_the_limit_is_refused_not_served(client: TestClient) -> None:
    response = await client.get("/search", params={"q": "x" * 10_000})
    assert 400 <= response.status < 500


@pytest.mark.parametrize("text", [*HOSTILE[:-1], "<script>alert(1)</script>", '"><img src=x>'])
async def test_hostile_text_comes_back_escaped_never_as_markup(
    client: TestClient, text: str
) -> None:
    text = text[:200]
    html = await client.get("/search", params={"q": text})
    assert html.status == 200
    body = await html.text()
    assert "<script>alert" not in body and "<img src=x>" not in body
    api = await client.get("/api/v1/search", params={"q": text})
    assert api.status in (200, 400)
    payload = json.loads(await api.text())
    assert set(payload) in ({"total", "page", "per_page", "quotes"}, {"error"})
    for path in (f"/q/{quote_path(text)}x", f"/themes/{quote_path(text)}x"):
        missing = await client.get(path)
        assert missing.status in (404, 400) and "<script>alert" not in await missing.text()
    missing = await get_json(client, "/api/v1/quotes/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404)
    assert missing == {"error": "No quote has that id; the themes list every entry."}


async def test_the_api_quote_is_the_ask_json_object_with_its_addresses(
    client: TestClient, service: QuoteService
) -> None:
    quote = await first_of(service, Kind.PARAPHRASE)
    found = await get_json(client, f"/api/v1/quotes/{quote.id}")
    base = origin(client)
    assert found == {
        **quote.as_json(),
        "url": f"{base}/q/{quote.id}",
        "card_url": f"{base}/q/{quote.id}.png",
    }

    listed = await get_json(client, "/api/v1/quotes?page=2&per_page=5")
    everything = await service.quotes()
    assert (listed["total"], listed["page"], listed["per_page"]) == (len(everything), 2, 5)
    assert [q["id"] for q in listed["quotes"]] == [q.id for q in everything[5:10]]
    theme = service.themes()[1].theme
    of_theme = await get_json(client, f"/api/v1/quotes?theme={theme.slug}&per_page=100")
    assert of_theme["total"] == service.count(theme.slug)
    assert {q["theme"] for q in of_theme["quotes"]} == {theme.slug}

    randomly = await get_json(client, f"/api/v1/random?theme={theme.slug}")
    assert randomly["theme"] == theme.slug
    today = await service.of_the_day(DAY)
    assert today is not None
    assert (await get_json(client, "/api/v1/today"))["id"] == today.id

    themes = await get_json(client, "/api/v1/themes")
    assert themes == {"themes": [i.as_json() for i in service.themes()]}  # as themes --json


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/quotes/no-such-id", 404),
        ("/api/v1/quotes?theme=no-such-theme", 404),
        ("/api/v1/random?theme=no-such-theme", 404),
        ("/api/v1/quotes?per_page=101", 400),
        ("/api/v1/quotes?page=-1", 400),
        ("/api/v1/search?q=", 400),
        ("/api/v1/nothing-here", 404),
    ],
)
async def test_api_errors_are_json_with_a_reason(
    client: TestClient, path: str, status: int
) -> None:
    found = await get_json(client, path, status)
    assert set(found) == {"error"} and found["error"]


async def test_unknown_pages_get_a_404_page(client: TestClient) -> None:
    for path in ("/q/no-such-id", "/q/no-such-id.png", "/themes/no-such-theme", "/nowhere"):
        response = await client.get(path)
        assert response.status == 404
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<h1>Not found</h1>" in await response.text()


async def test_every_get_has_an_etag_and_answers_if_none_match_with_304(
    client: TestClient, service: QuoteService
) -> None:
    quote = (await service.quotes())[0]
    paths = [
        "/",
        f"/q/{quote.id}",
        f"/q/{quote.id}.png",
        "/themes",
        f"/themes/{quote.theme}",
        "/search?q=dpo",
        "/feed.atom",
        "/static/style.css",
        "/favicon.svg",
        "/api/v1/quotes",
        f"/api/v1/quotes/{quote.id}",
        "/api/v1/random",
        "/api/v1/search?q=dpo",
        "/api/v1/themes",
        "/api/v1/today",
    ]
    for path in paths:
        first = await client.get(path)
        etag = first.headers["ETag"]
        assert first.status == 200 and first.headers["Cache-Control"], path
        again = await client.get(path, headers={"If-None-Match": etag})
        if "random" in path:
            assert first.headers["Cache-Control"] == "no-store"
            continue
        assert again.status == 304, path
        assert again.headers["ETag"] == etag and await again.read() == b""
        head = await client.head(path)
        assert head.status == 200 and head.headers["ETag"] == etag
        assert await head.read() == b""
        other = await client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status == 200


async def test_the_feed_is_atom_with_the_last_30_days_each_linking_its_permalink(
    client: TestClient, service: QuoteService
) -> None:
    response = await client.get("/feed.atom")
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(await response.text())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == 30
    assert len({e.id for e in feed.entries}) == 30
    today = await service.of_the_day(DAY)
    assert today is not None
    newest = feed.entries[0]
    assert newest.link == f"{origin(client)}/q/{today.id}"
    assert newest.title.startswith(DAY.isoformat())
    for entry in feed.entries:
        assert (await client.get(entry.link.removeprefix(origin(client)))).status == 200


async def test_the_stylesheet_sets_the_cards_typeface_served_from_the_package(
    client: TestClient,
) -> None:
    from bot.cards import FONT_LICENSE, font_files

    css = await (await client.get("/static/style.css")).text()
    assert "prefers-color-scheme: dark" in css
    for name, path in font_files().items():
        assert f'url("/fonts/{name}")' in css
        font = await client.get(f"/fonts/{name}")
        assert font.status == 200 and await font.read() == path.read_bytes()
    licence = await client.get("/fonts/LICENSE.txt")
    assert await licence.read() == FONT_LICENSE.read_bytes()
    favicon = await client.get("/favicon.svg")
    assert favicon.headers["Content-Type"] == "image/svg+xml"
    assert (await client.get("/fonts/..%2Fpyproject.toml")).status == 404
