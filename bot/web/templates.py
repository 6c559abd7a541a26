"""The Jinja2 environment (autoescape on for every template) and what a quote looks like to
a template: the wording of labels and credits comes from bot.chat.replies, as in chat."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from bot.chat.replies import summary_tag
from bot.quotes.models import Kind, Quote, credit_line, quoted_body, summary_label
from bot.web.links import card_path, page_path, theme_path

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # Every template, whatever its name: user text in a .css or .svg is escaped as well.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> bytes:
    return environment().get_template(name).render(**context).encode()


def shown(quote: Quote) -> dict[str, Any]:
    """A quote as templates show it: his words in quotation marks with a credit, a summary
    labelled and never in quotation marks."""
    is_quote = quote.kind is Kind.QUOTE
    return {
        "id": quote.id,
        "is_quote": is_quote,
        "text": quote.text,
        "body": quoted_body(quote),
        "credit": credit_line(quote) if is_quote else f"Source: {quote.source}",
        "label": "" if is_quote else summary_label(quote),
        "tag": "" if is_quote else summary_tag(quote),
        "topic": quote.topic,
        "theme": quote.theme,
        "theme_title": quote.theme_title,
        "theme_url": theme_path(quote.theme),
        "source": quote.source,
        "url": page_path(quote.id),
        "card": card_path(quote.id),
        "alt": description(quote),
    }


def description(quote: Quote) -> str:
    """One line saying what the entry is: og:description, the card's alt text, the feed."""
    if quote.kind is Kind.QUOTE:
        return f"{quoted_body(quote)} {credit_line(quote)}"
    return f"{summary_label(quote)}: {quote.text} (Source: {quote.source})"
