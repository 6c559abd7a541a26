"""The grammar's verb table: one row adds a verb to parsing, dispatch, help and admin checks,
on every platform, with no adapter change."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.adapters.console import run_console
from bot.chat import grammar
from bot.chat.context import RequestContext
from bot.chat.grammar import VERBS, Verb, answer, help_reply
from bot.chat.replies import Reply, TextReply
from bot.config import Settings
from bot.quotes.corpus import RESERVED_WORDS
from bot.runtime import Core
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import ADMIN_ID, MEMBER_ID, FakeSlack
from tests.support.slack import running_platform, slack_settings, slash

SECRET = "The admins' secret."


async def tell_secret(core: Core, rest: str, ctx: RequestContext) -> Reply:
    return TextReply(SECRET, (f"words after the verb: {rest or 'none'}",))


@pytest.fixture
def secret_verb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Verb]:
    """A new admin-only verb, added the one way a verb is added: a row in the table."""
    row = Verb("secret", tell_secret, "`/lambert secret` for admins", admin_only=True)
    monkeypatch.setitem(VERBS, row.name, row)
    yield row


def text_of(slack_reply: dict[str, Any]) -> str:
    return json.dumps(slack_reply)


async def test_a_new_admin_only_row_is_refused_to_a_member_on_the_console(
    core: Core, secret_verb: Verb
) -> None:
    member, admin = RequestContext(admin=False), RequestContext(admin=True)
    for ctx, says in ((member, "Only admins can use /lambert secret."), (admin, SECRET)):
        out = io.StringIO()
        await run_console(core, io.StringIO("secret\n"), out, ctx=ctx, interactive=False)
        assert says in out.getvalue()


async def test_a_new_admin_only_row_is_refused_to_a_member_on_slack(
    core: Core, fake_slack: FakeSlack, settings: Settings, secret_verb: Verb
) -> None:
    async with running_platform(fake_slack, core, slack_settings(settings)) as platform:
        refused = (await slash(fake_slack, platform, "secret", user_id=MEMBER_ID)).body
        allowed = (await slash(fake_slack, platform, "secret now", user_id=ADMIN_ID)).body
    assert "Only admins can use" in text_of(refused) and SECRET not in text_of(refused)
    assert "workspace admin or owner" in text_of(refused)
    assert SECRET in text_of(allowed) and "words after the verb: now" in text_of(allowed)
    # The role was looked up because the verb asked, for each of the two users.
    assert [c.args["user"] for c in fake_slack.calls("users.info")] == [MEMBER_ID, ADMIN_ID]


async def test_a_new_admin_only_row_is_refused_to_a_member_on_discord(
    discord_bot: FakeDiscord, secret_verb: Verb
) -> None:
    fake = discord_bot
    for user, title in (
        (fake.member, "Only admins can use `/lambert secret`."),
        (fake.admin, SECRET),
    ):
        await fake.send_interaction(fake.slash_command("lambert", {"query": "secret"}, user=user))
        reply = await fake.next_callback()
        assert reply.embeds[0]["title"] == title


async def test_a_new_row_is_in_help_and_plain_verbs_never_ask_for_the_role(
    core: Core, secret_verb: Verb
) -> None:
    asked: list[str] = []

    async def role() -> bool:
        asked.append("asked")
        return False

    member = RequestContext(admin=role)
    assert "`/lambert secret` for admins" in help_reply(core).lines
    for text in ("dpo", "search rlhf", "themes", "id dpo-simplicity", "help"):
        await answer(core, text, member)
    assert asked == []
    await answer(core, "secret", member)
    assert asked == ["asked"]


@pytest.mark.parametrize("text", ["help me", "themes of rlhf"])
async def test_a_word_only_verb_followed_by_words_is_a_search(core: Core, text: str) -> None:
    verb, rest = grammar.find_verb(text)
    assert (verb, rest) == (None, text)


def test_the_corpus_refuses_every_verb_as_a_theme_name() -> None:
    """A theme called like a verb could never be reached by name."""
    assert set(VERBS) <= RESERVED_WORDS


async def test_a_row_with_an_admin_predicate_opens_some_uses_to_everyone(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`admin_only` may judge the words: the daily verb's status is everyone's, changes not."""
    row = Verb(
        "secret", tell_secret, "", admin_only=lambda words: words != "peek", refusal="tell it"
    )
    monkeypatch.setitem(VERBS, row.name, row)
    member = RequestContext(admin=False)
    assert (await answer(core, "secret peek", member)).title == SECRET
    assert (await answer(core, "secret tell", member)).title == "Only admins can tell it."
    # A structured call that does not say which use it is counts as the strictest.
    refused = await grammar.perform("secret", member, lambda: tell_secret(core, "", member))
    assert refused.title == "Only admins can tell it."
    opened = await grammar.perform(
        "secret", member, lambda: tell_secret(core, "", member), None, "peek"
    )
    assert opened.title == SECRET


# Every platform's help says what DAYS may be, in the same words (issue 21).
DAYS_SAID = "DAYS: weekdays, weekends, mon,wed,fri or mon-fri, or every day if left out"


@pytest.mark.parametrize(
    ("platform", "shown", "not_shown"),
    [
        (
            "discord",
            ["`/lambert-daily set`", "as you type", "Manage Server", DAYS_SAID],
            [":as", "opens a form"],
        ),
        (
            "slack",
            [
                "`/lambert daily` opens a form with the days to tick (admins)",
                "`/lambert daily on 09:00 [DAYS] Europe/Berlin [theme]`",
                "`/lambert daily off`",
                DAYS_SAID,
            ],
            [":as", "/lambert-daily"],
        ),
        (
            "console",
            [
                "`:as member`",
                "`:channel NAME`",
                "`:time ",
                "`:help`",
                "`daily on 09:00 [DAYS] Europe/Berlin [theme]`",
                "`daily off`",
                DAYS_SAID,
            ],
            ["/lambert-daily", "opens a form"],
        ),
    ],
)
async def test_help_shows_each_platforms_own_way_from_the_one_table(
    core: Core, platform: str, shown: list[str], not_shown: list[str]
) -> None:
    ctx = RequestContext(platform=platform, admin=False)
    reply = await answer(core, "help", ctx)
    assert isinstance(reply, TextReply)
    text = "\n".join(reply.lines)
    assert all(s in text for s in shown), text
    assert not any(s in text for s in not_shown), text
    assert "(everyone)" in text  # the daily status is open to all, everywhere
    for verb in VERBS.values():  # every row is there, in its platform form
        assert verb.help_on.get(platform, verb.help) in reply.lines or not verb.help
