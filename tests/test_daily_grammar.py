"""`/lambert daily ...` in chat: admins only, clear refusals, nothing written on bad input."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.adapters.console import ConsolePoster, run_console
from bot.chat.context import RequestContext
from bot.chat.grammar import answer
from bot.chat.replies import Form, TextReply
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.support.hostile import HOSTILE

NOW = datetime(2025, 1, 15, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, winter


class StoppedAt:
    def now(self) -> datetime:
        return NOW

    async def wait_until(self, instant: datetime) -> None:
        raise AssertionError("chat commands never wait")


def admin(platform: str = "discord") -> RequestContext:
    return RequestContext(platform=platform, channel="123", user="42", user_name="ada", admin=True)


async def daily(core: Core, text: str, ctx: RequestContext | None = None) -> TextReply:
    """`/lambert daily <text>` through the grammar, at NOW."""
    stopped = replace(core, daily=core.daily.with_clock(StoppedAt()))
    reply = await answer(stopped, f"daily {text}", ctx or admin())
    assert isinstance(reply, TextReply)
    return reply


async def saved(core: Core) -> list[object]:
    return list(await core.daily.store.schedules())


@pytest.mark.parametrize(
    ("platform", "said"),
    [("discord", "Manage Server"), ("slack", "workspace admin or owner"), ("irc", "an admin role")],
)
@pytest.mark.parametrize(
    "text", ["on 09:00 Europe/Berlin", "off", "on 25:00 Mars", "status please", "bogus"]
)
async def test_a_member_is_refused_with_the_role_needed_and_nothing_is_written(
    core: Core, platform: str, said: str, text: str
) -> None:
    """The refusal names who counts as an admin in the platform's words (or a neutral one)."""
    member = RequestContext(platform=platform, channel="123", user="7", admin=False)
    reply = await daily(core, text, member)
    assert not reply.ok
    assert reply.title == "Only admins can manage the daily quote."
    assert said in " ".join(reply.lines)
    assert await saved(core) == []


@pytest.mark.parametrize("text", ["", "status", "  STATUS ", "/lambert daily"])
async def test_a_member_may_see_the_status(core: Core, text: str) -> None:
    """Everyone may see when a channel's daily quote posts; only admins change it."""
    await daily(core, "on 09:00 Europe/Berlin", admin("slack"))
    member = RequestContext(platform="slack", channel="123", user="7", admin=False)
    if text.startswith("/lambert"):
        reply = await answer(core, text, member)
    else:
        reply = await daily(core, text, member)
    assert (reply.ok, reply.title) == (True, "Daily quote: every day at 09:00 Europe/Berlin.")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("on", "Say when"),
        ("on 09:00", "Say when"),
        ("on 25:00 Europe/Berlin", "not a time of day"),
        ("on 9xm Europe/Berlin", "not a time of day"),
        ("on 12:60 Europe/Berlin", "not a time of day"),
        ("on Europe/Berlin 09:00", "not a time of day"),
        ("on 09:00 Mars/Olympus_Mons", "not a time zone"),
        ("on 09:00 Europe/Berln", "Did you mean Europe/Berlin"),
        ("on 09:00 localtime", "not a time zone"),
        ("on 09:00 ../../etc/passwd", "not a time zone"),
        ("on 09:00 Europe/Berlin astrology", "No theme is called"),
        ("off now", "Usage"),
        ("sometimes", "Usage"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(
    core: Core, service: QuoteService, text: str, says: str
) -> None:
    reply = await daily(core, text)
    assert not reply.ok
    assert says in "\n".join([reply.title, *reply.lines])
    assert await saved(core) == []


@pytest.mark.parametrize("junk", HOSTILE)
async def test_any_text_after_daily_on_gets_a_reply(
    core: Core, service: QuoteService, junk: str
) -> None:
    for text in (f"on {junk}", f"on 09:00 {junk}", f"on 09:00 UTC {junk}", junk):
        reply = await answer(core, f"daily {text}", admin())
        assert isinstance(reply, TextReply)


async def test_on_stores_the_schedule_and_status_shows_next_post_local_and_utc(
    core: Core,
    service: QuoteService,
) -> None:
    reply = await daily(core, "on 9:00 europe/berlin dpo")
    assert reply.ok and reply.title == "Daily quote on: every day at 09:00 Europe/Berlin."
    (schedule,) = await core.daily.store.schedules()
    assert (schedule.platform, schedule.channel, schedule.theme) == ("discord", "123", "dpo-vs-ppo")
    assert (schedule.set_by, schedule.set_at, schedule.enabled) == ("ada", NOW, True)

    status = await daily(core, "")
    text = "\n".join(status.lines)
    assert status.title == "Daily quote: every day at 09:00 Europe/Berlin."
    assert "Theme: DPO vs. PPO: The Optimizer Debate" in text
    assert "Next post: Wed 15 Jan 2025, 09:00 CET (2025-01-15 08:00 UTC)" in text
    assert "Last post: none yet" in text


async def test_off_stops_it_and_status_says_so(core: Core, service: QuoteService) -> None:
    assert (await daily(core, "off")).title == "There is no daily quote here to turn off."
    await daily(core, "on 18:30 America/New_York")
    assert (await daily(core, "off")).title == "Daily quote off for this channel."
    (schedule,) = await core.daily.store.schedules()
    assert not schedule.enabled
    status = await daily(core, "status")
    assert status.title == "The daily quote is off here."
    assert not any(line.startswith("Next post") for line in status.lines)


async def test_the_grammar_routes_daily_and_each_channel_has_its_own_schedule(
    core: Core,
    service: QuoteService,
) -> None:
    await answer(core, "/lambert daily on 07:15 Asia/Tokyo", admin("slack"))
    other = RequestContext(platform="slack", channel="C2", admin=True)
    reply = await answer(core, "daily", other)
    assert isinstance(reply, TextReply) and reply.title == "No daily quote here yet."
    (schedule,) = await core.daily.store.schedules()
    assert (schedule.platform, schedule.channel, schedule.tz) == ("slack", "123", "Asia/Tokyo")


async def test_the_console_user_is_the_operator_and_may_set_a_schedule(
    core: Core,
    service: QuoteService,
) -> None:
    out = io.StringIO()
    await run_console(core, io.StringIO("daily on 09:00 UTC\n"), out, interactive=False)
    assert "Daily quote on: every day at 09:00 UTC." in out.getvalue()
    (schedule,) = await core.daily.store.schedules()
    assert (schedule.platform, schedule.channel) == ("console", "console")


async def test_the_console_poster_prints_the_quote_and_returns_an_id(service: QuoteService) -> None:
    quote = await service.quote("dpo-simplicity")
    assert quote is not None
    out = io.StringIO()
    first = await ConsolePoster(out).post_daily("general", quote, date(2025, 1, 1))
    second = await ConsolePoster(out).post_daily("general", quote, date(2025, 1, 1))
    assert first != second
    assert out.getvalue().startswith("[daily quote for #general]\n" + quote.topic)
    assert "id: dpo-simplicity" in out.getvalue()


@pytest.mark.parametrize(
    ("text", "form"),
    [("", Form.OPEN), ("status", Form.OFFER), ("on 09:00 UTC", None), ("off", None)],
)
async def test_the_reply_says_which_use_of_the_settings_form_it_stands_for(
    core: Core, text: str, form: Form | None
) -> None:
    """Slack's listener opens its form, or offers a button, from the reply alone (no second
    parse of the command): `daily` alone is the form itself, `daily status` offers it."""
    assert (await daily(core, text, admin("slack"))).form is form
