"""Links to the site's quote pages, unfurled by `chat.unfurl` (with LAMBERT_PUBLIC_URL only)."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.after_ack import Listener, Respond, acked
from bot.adapters.slack.blocks import card_url, shared_message
from bot.adapters.slack.payload import dict_at
from bot.web.links import quote_id_in

MAX_LINKS = 5  # Slack sends at most 5 links of a message per event


class Unfurls(Listener):
    public_url: str | None

    @acked("unfurling a link")
    async def link_shared(self, body: dict[str, Any], _: Respond, client: AsyncWebClient) -> None:
        event = dict_at(body, "event")
        site = self.public_url or ""  # registered only with one (app.py)
        unfurls: dict[str, dict[str, Any]] = {}
        for link in list(event.get("links") or [])[:MAX_LINKS]:
            url = str((link or {}).get("url") or "")
            quote_id = quote_id_in(site, url)
            quote = await self.core.quotes.quote(quote_id) if quote_id else None
            if quote is not None:
                card = card_url(site, quote)
                unfurls[url] = {"blocks": shared_message(quote, "", card, site)["blocks"]}
        if not unfurls:
            return  # another page of the site (a theme, a search): Slack shows its own preview
        where: dict[str, Any]
        if event.get("unfurl_id") and event.get("source"):  # a message still being composed
            where = {"unfurl_id": event["unfurl_id"], "source": event["source"]}
        else:
            where = {"channel": event.get("channel"), "ts": event.get("message_ts")}
        await client.chat_unfurl(unfurls=unfurls, **where)
