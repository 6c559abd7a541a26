"""Neutral replies as Discord embeds and plain text, always inside Discord's length limits."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.cards import card_file_name, card_png
from bot.chat import replies
from bot.chat.replies import ListReply, QuoteReply, Reply, TextReply, cut
from bot.quotes.models import AUTHOR, Kind, Quote, summary_label
from bot.web.links import permalink

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT = 2000
TITLE_LIMIT = AUTHOR_LIMIT = FIELD_NAME_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
FIELD_VALUE_LIMIT = 1024
EMBED_TOTAL_LIMIT = 6000

QUOTE_COLOUR = discord.Colour(0x2B6CB0)
PARAPHRASE_COLOUR = discord.Colour(0x718096)  # grey: a summary, visibly not his words
NOTICE_COLOUR = discord.Colour(0xC05621)

DAILY_FOOTER = " \u00b7 Daily quote \u00b7 /lambert-daily"


@dataclass(frozen=True)
class Message:
    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    card: Quote | None = None  # this quote's card goes with it, shown in its embed
    link: str | None = None  # the quote's page on the web site, as a link button under it

    def view(self) -> discord.ui.View | None:
        """The link button to the quote's page, or None (LAMBERT_PUBLIC_URL unset)."""
        if self.link is None:
            return None
        button = discord.ui.Button[Any](label=replies.PAGE_LINK, url=self.link)
        return discord.ui.View(timeout=None).add_item(button)

    def files(self) -> list[discord.File]:
        """The card, a new upload each call (a File is read once); [] clears old attachments."""
        if self.card is None:
            return []
        return [discord.File(io.BytesIO(card_png(self.card)), card_file_name(self.card))]


def quote_embed(quote: Quote, *, footer_suffix: str = "", card: bool = False) -> discord.Embed:
    """With `card`, the card as its image too."""
    title = cut(quote.topic, TITLE_LIMIT)
    # Above the text: his name for his words, a label for a summary of his view.
    by = AUTHOR if quote.kind is Kind.QUOTE else summary_label(quote)
    author = cut(by, AUTHOR_LIMIT)
    footer = cut(replies.footer_line(quote) + footer_suffix, FOOTER_LIMIT)
    room = min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - len(title) - len(author) - len(footer))
    colour = QUOTE_COLOUR if quote.kind is Kind.QUOTE else PARAPHRASE_COLOUR
    embed = discord.Embed(title=title, description=replies.fitted(quote, room), colour=colour)
    embed.set_author(name=author).set_footer(text=footer)
    if card:
        embed.set_image(url=f"attachment://{card_file_name(quote)}")
    return embed


def list_embed(reply: ListReply) -> discord.Embed:
    """Search results as one field per quote, every value shrunk to share the 6000 total."""
    title = cut(reply.title, TITLE_LIMIT)
    footer = cut(replies.list_footer(reply, code=str), FOOTER_LIMIT)  # footers render no markdown
    quotes = reply.quotes[:25]  # 25 fields at most; the grammar lists 5
    names = [cut(f"{q.topic} \u00b7 id: {q.id}", FIELD_NAME_LIMIT) for q in quotes]
    left = EMBED_TOTAL_LIMIT - len(title) - len(footer) - sum(map(len, names))
    room = min(FIELD_VALUE_LIMIT, left // max(len(quotes), 1))
    embed = discord.Embed(title=title, colour=QUOTE_COLOUR)
    for name, quote in zip(names, quotes, strict=True):
        embed.add_field(name=name, value=replies.listed_body(quote, room), inline=False)
    embed.set_footer(text=footer)
    return embed


def text_embed(reply: TextReply) -> discord.Embed:
    colour = QUOTE_COLOUR if reply.ok else NOTICE_COLOUR
    lines = cut("\n".join(reply.lines), DESCRIPTION_LIMIT) or None
    return discord.Embed(title=cut(reply.title, TITLE_LIMIT), description=lines, colour=colour)


def reply_message(reply: Reply) -> Message:
    """Any core reply as a private message; a quote's note (more matches...) as its text."""
    if isinstance(reply, QuoteReply):
        note = cut(reply.note, CONTENT_LIMIT) if reply.note else None
        card = reply.quote if reply.card else None
        return Message(note, [quote_embed(reply.quote, card=reply.card)], card)
    return Message(None, [list_embed(reply) if isinstance(reply, ListReply) else text_embed(reply)])


def shared_message(
    quote: Quote, shared_by: str, *, card: bool = False, public_url: str | None = None
) -> Message:
    """The quote as posted for everyone, crediting the member by name (never a mention)."""
    # A zero-width space after every "@" keeps a name like "@everyone" or "<@&1>" from even
    # looking like a mention (AllowedMentions.none() already stops the ping).
    name = discord.utils.escape_markdown(shared_by).replace("@", "@\u200b")
    content = cut(f"Shared by {name}", CONTENT_LIMIT) if name else None
    link = permalink(public_url, quote.id) if public_url else None  # LAMBERT_PUBLIC_URL
    return Message(content, [quote_embed(quote, card=card)], quote if card else None, link)


def daily_message(quote: Quote, public_url: str | None = None) -> Message:
    link = permalink(public_url, quote.id) if public_url else None
    return Message(None, [quote_embed(quote, footer_suffix=DAILY_FOOTER)], link=link)
