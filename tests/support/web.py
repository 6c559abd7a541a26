"""The web site under test: the real aiohttp app on a loopback port, on a fixed UTC day, and
small readers for what it answers (Open Graph tags, links)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Core
from bot.web.app import LIMITS, create_app
from bot.web.site import Site

DAY = date(2026, 3, 2)
PUBLIC = "https://quotes.example.org"


def make_site(core: Core, public_url: str | None = None) -> Site:
    return Site(core.quotes, public_url, today=lambda: DAY)


async def open_client(site: Site) -> TestClient:
    server = TestServer(create_app(site), host="127.0.0.1", **LIMITS)
    client = TestClient(server)
    await client.start_server()
    return client


@pytest.fixture
async def client(core: Core) -> AsyncIterator[TestClient]:
    """The site with no public address: links use the request's own origin."""
    client = await open_client(make_site(core))
    yield client
    await client.close()


@pytest.fixture
async def public_client(core: Core) -> AsyncIterator[TestClient]:
    """The site with LAMBERT_PUBLIC_URL set."""
    client = await open_client(make_site(core, PUBLIC))
    yield client
    await client.close()


def origin(client: TestClient) -> str:
    return f"http://127.0.0.1:{client.port}"


class Head(HTMLParser):
    """<meta property|name=... content=...> and <link rel=... href=...> of a page, and every
    <a href>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.anchors: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and "content" in a:
            self.meta[a.get("property") or a.get("name", "")] = a["content"]
        elif tag == "link" and "rel" in a:
            self.links[a["rel"]] = a.get("href", "")
        elif tag == "a" and "href" in a:
            self.anchors.append(a["href"])
