"""The site's addresses: every absolute link is built here, from LAMBERT_PUBLIC_URL or the
request's own origin."""

from __future__ import annotations

from urllib.parse import quote as escape_path
from urllib.parse import unquote

API = "/api/v1"


def page_path(quote_id: str) -> str:
    return f"/q/{escape_path(quote_id, safe='')}"


def card_path(quote_id: str) -> str:
    return f"{page_path(quote_id)}.png"


def theme_path(slug: str) -> str:
    return f"/themes/{escape_path(slug, safe='')}"


def permalink(base: str, quote_id: str) -> str:
    """The absolute address of a quote's page; `base` is an origin without a trailing slash."""
    return base + page_path(quote_id)


def quote_id_in(base: str, url: str) -> str | None:
    """The quote id a link to a page of the site at `base` names, or None for any other link
    (a card, a theme, another site)."""
    rest = url.removeprefix(base + "/q/") if url.startswith(base + "/q/") else ""
    found = unquote(rest.split("?")[0].split("#")[0].rstrip("/"))
    return found if found and "/" not in found and not found.endswith(".png") else None
