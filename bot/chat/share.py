"""Post on a preview, on every platform: its quote shared at most once, however often clicked."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.chat.context import RequestContext
from bot.chat.stats_verb import place
from bot.quotes.models import Quote
from bot.runtime import Core

log = logging.getLogger(__name__)

GONE = "That quote is no longer in the corpus. Try /lambert again."
POSTED = "Posted to the channel."
# A Post clicked on a preview someone already claimed. Only a confirmed post says so; one
# whose answer never came may be in the channel or not, and nobody can say which.
ALREADY_POSTED = "Already posted."
MAYBE_POSTED = (
    "This quote's first Post is not confirmed, so it may already be in the channel: "
    "look there before sharing it again."
)
POST_AGAIN = "The first Post of this quote did not go out; click Post again."

Send = Callable[[Quote], Awaitable[str | None]]
"""The platform's post of the quote: the message's id, or None when the platform did not say.
NothingPosted when it surely posted nothing; any other failure may have posted."""


class NothingPosted(Exception):
    """The post did not go out (or cannot go out twice if tried again): the claim is released,
    so Post works again. With a message, it is the note the member is told, and no failure."""


@dataclass(frozen=True, slots=True)
class Shared:
    """What came of a Post: the `note` for the member, and whether the preview stays (`kept`:
    someone claimed it before, the note goes beside it) or the note takes its place."""

    note: str
    posted: bool = False
    kept: bool = False


async def share_preview(
    core: Core, preview: str, quote_id: str, ctx: RequestContext, send: Send
) -> Shared:
    """Claim `preview` (in `ctx`'s channel), then `send` its quote: released when nothing was
    posted, recorded and counted when posted. A failure that may have posted keeps the claim
    (a click again says the quote may be in the channel) and is raised as it is."""
    quote = await core.quotes.quote(quote_id)
    if quote is None:
        return Shared(GONE)
    previews = core.previews
    if not await previews.claim(preview, ctx.platform, ctx.channel, datetime.now(UTC)):
        # Posting: under way, or its answer was lost; None: released meanwhile (it failed).
        outcome = await previews.outcome(preview) or ""
        note = {"posted": ALREADY_POSTED, "posting": MAYBE_POSTED}.get(outcome, POST_AGAIN)
        return Shared(note, kept=True)
    try:
        message_id = await send(quote)
    except NothingPosted as exc:
        await previews.release(preview)
        if not str(exc):
            raise
        return Shared(str(exc))
    await previews.record_posted(preview, message_id)
    core.stats.posted(place(ctx), "preview")
    log.info(
        "%s: shared quote=%s channel=%s user=%s", ctx.platform, quote.id, ctx.channel, ctx.user
    )
    return Shared(POSTED, posted=True)
