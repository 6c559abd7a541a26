"""The one share-a-preview flow both adapters call (bot/chat/share.py), on the real SQLite
preview store: claimed once, released when nothing was posted, kept when nobody can say."""

from __future__ import annotations

from datetime import date

import pytest

from bot.chat.context import RequestContext
from bot.chat.share import (
    ALREADY_POSTED,
    GONE,
    MAYBE_POSTED,
    POSTED,
    NothingPosted,
    Send,
    Shared,
    share_preview,
)
from bot.quotes.models import Quote
from bot.runtime import Core
from bot.stats.store import POSTED as POSTED_METRIC
from bot.stats.store import Scope

PREVIEW = "slack:T1:C1:U1:1700000000.000100"
WHERE = RequestContext(platform="slack", channel="T1/C1", space="T1", user="U1")
QUOTE_ID = "dpo-simplicity"


class Platform:
    """A platform's one call: what it did with each quote it was handed, and what it answers."""

    def __init__(self, *answers: str | Exception | None) -> None:
        self.answers = list(answers)
        self.sent: list[str] = []

    async def send(self, quote: Quote) -> str | None:
        self.sent.append(quote.id)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def posted_count(core: Core) -> int:
    await core.stats.flush()
    assert core.stats.store is not None
    tallies = await core.stats.store.tallies(date(2000, 1, 1), Scope("slack", "T1"))
    return sum(t.total for t in tallies if (t.metric, t.name) == (POSTED_METRIC, "preview"))


async def share(core: Core, send: Send) -> Shared:
    return await share_preview(core, PREVIEW, QUOTE_ID, WHERE, send)


async def test_a_post_is_recorded_counted_and_never_sent_twice(core: Core) -> None:
    platform = Platform("1700000000.000200")

    assert await share(core, platform.send) == Shared(POSTED, posted=True)
    assert await share(core, platform.send) == Shared(ALREADY_POSTED, kept=True)

    assert platform.sent == [QUOTE_ID]
    assert await core.previews.outcome(PREVIEW) == "posted"
    assert await posted_count(core) == 1


async def test_nothing_posted_releases_the_claim_so_post_works_again(core: Core) -> None:
    refused = NothingPosted()
    platform = Platform(refused, "1700000000.000300")

    with pytest.raises(NothingPosted) as raised:
        await share(core, platform.send)
    assert raised.value is refused  # the adapter reports the failure as it does any
    assert await core.previews.outcome(PREVIEW) is None
    assert await posted_count(core) == 0

    assert await share(core, platform.send) == Shared(POSTED, posted=True)
    assert platform.sent == [QUOTE_ID, QUOTE_ID]


async def test_an_unknown_outcome_keeps_the_claim_and_a_click_again_sends_nothing(
    core: Core,
) -> None:
    platform = Platform(TimeoutError("no answer"))

    with pytest.raises(TimeoutError):
        await share(core, platform.send)
    assert await share(core, platform.send) == Shared(MAYBE_POSTED, kept=True)

    assert platform.sent == [QUOTE_ID]
    assert await core.previews.outcome(PREVIEW) == "posting"
    assert await posted_count(core) == 0


async def test_nothing_posted_with_a_note_is_said_and_released(core: Core) -> None:
    platform = Platform(NothingPosted("Only you can see answers here."))

    assert await share(core, platform.send) == Shared("Only you can see answers here.")
    assert await core.previews.outcome(PREVIEW) is None


async def test_a_quote_gone_from_the_corpus_claims_nothing(core: Core) -> None:
    platform = Platform()

    shared = await share_preview(core, PREVIEW, "no-such-quote", WHERE, platform.send)

    assert shared == Shared(GONE)
    assert platform.sent == []
    assert await core.previews.outcome(PREVIEW) is None
