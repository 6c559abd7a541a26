"""Labels that stay exact: a summary holding a passage of his words says it quotes him in part,
on every platform and in JSON; the passage itself is shown exactly as the seed has it."""

from __future__ import annotations

import json

import pytest

from bot.adapters.discord.embeds import reply_message as discord_message
from bot.adapters.slack.blocks import reply_message as slack_message
from bot.adapters.terminal import render
from bot.chat.replies import ListReply, QuoteReply
from bot.cli import main
from bot.quotes.models import PARAPHRASE_LABEL, PARTIAL_LABEL, Kind
from bot.quotes.service import QuoteService
from tests.support.paths import CORPUS

QUOTING_IN_PART = {
    "robotics-as-foundation": '"The synergy of prediction and control"',
    "educational-impact": '"Generative AI might democratize education,"',
    "mitigating-risks-of-obscurity": "\"making sure there's not risks through obscurity",
}
PLAIN_SUMMARY = "alignment-ceiling"  # a quoted term ("alignment ceiling"), not a passage
HIS_WORDS = "dpo-simplicity"


async def test_exactly_the_summaries_holding_a_passage_quote_him_in_part(
    service: QuoteService,
) -> None:
    found = {q.id for q in await service.quotes() if q.quotes_in_part}
    assert found == set(QUOTING_IN_PART)


@pytest.mark.parametrize(("quote_id", "passage"), QUOTING_IN_PART.items())
async def test_every_platform_labels_it_and_keeps_the_passage_verbatim(
    service: QuoteService, quote_id: str, passage: str
) -> None:
    quote = await service.quote(quote_id)
    assert quote is not None and quote.kind is Kind.PARAPHRASE
    assert passage in CORPUS.read_text(encoding="utf-8")  # the seed's own characters
    reply = QuoteReply(quote)

    console = render(reply)
    assert PARTIAL_LABEL in console and PARAPHRASE_LABEL not in console
    assert passage in console.replace("\n  ", " ")
    embed = discord_message(reply).embeds[0].to_dict()
    assert embed["author"]["name"] == PARTIAL_LABEL
    assert passage in embed["description"]
    blocks = json.dumps(slack_message(reply), ensure_ascii=False)
    assert PARTIAL_LABEL in blocks and PARAPHRASE_LABEL not in blocks
    listed = render(ListReply("1 quote", (quote,), 1))
    assert "[summary of his view, quoting him in part]" in listed


async def test_a_plain_summary_and_his_words_keep_their_labels(service: QuoteService) -> None:
    summary, said = await service.quote(PLAIN_SUMMARY), await service.quote(HIS_WORDS)
    assert summary is not None and said is not None
    assert PARAPHRASE_LABEL in render(QuoteReply(summary))
    assert "quoting him in part" not in render(QuoteReply(said))
    assert discord_message(QuoteReply(said)).embeds[0].to_dict()["author"]["name"] == (
        "Nathan Lambert"
    )


@pytest.mark.parametrize(
    ("quote_id", "in_part"),
    [("robotics-as-foundation", True), (PLAIN_SUMMARY, False), (HIS_WORDS, False)],
)
def test_json_says_whether_a_summary_quotes_him_in_part(
    capsys: pytest.CaptureFixture[str], quote_id: str, in_part: bool
) -> None:
    assert main(["ask", "--json", "id", quote_id]) == 0
    quote = json.loads(capsys.readouterr().out)["quote"]
    assert quote["quotes_in_part"] is in_part
    assert quote["kind"] == ("quote" if quote_id == HIS_WORDS else "paraphrase")


def test_lambert_ask_shows_the_label(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "id", "educational-impact"]) == 0
    assert PARTIAL_LABEL in capsys.readouterr().out
