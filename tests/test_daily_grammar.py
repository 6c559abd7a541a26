"""`/lambert daily ...` in chat: admins only, clear refusals, nothing written on bad input."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

import pytest

from bot.adapters.console import ConsolePoster, run_console
from bot.chat.daily_verbs import answer_daily
from bot.chat.grammar import RequestContext, answer
from bot.chat.replies import TextReply
from bot.daily.schedules import ScheduleStore
from bot.quotes.service import QuoteService
from tests.support.hostile import HOSTILE

NOW = datetime(2025, 1, 15, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, winter


class StoppedAt:
    def now(self) -> datetime:
        return NOW

    async def wait_until(self, instant: datetime) -> None:
        raise AssertionError("chat commands never wait")


def admin(platform: str = "discord") -> RequestContext:
    return RequestContext(
        platform=platform, channel="123", user="42", user_name="ada", is_admin=True
    )


async def daily(service: QuoteService, text: str, ctx: RequestContext | None = None) -> TextReply:
    return await answer_daily(service, text, ctx or admin(), StoppedAt())


async def saved(service: QuoteService) -> list[object]:
    return list(await ScheduleStore.of(service.store.conn).all())


@pytest.mark.parametrize(
    ("admin_means", "said"),
    [("the Manage Server permission", "Manage Server"), (None, "an admin role here")],
)
@pytest.mark.parametrize("text", ["", "status", "on 09:00 Europe/Berlin", "off", "on 25:00 Mars"])
async def test_a_member_is_refused_with_the_role_needed_and_nothing_is_written(
    service: QuoteService, admin_means: str | None, said: str, text: str
) -> None:
    """The refusal names who counts as an admin in the adapter's words (or a neutral one)."""
    member = RequestContext(platform="discord", channel="123", user="7", is_admin=False)
    if admin_means is not None:
        member = dataclasses.replace(member, admin_means=admin_means)
    reply = await daily(service, text, member)
    assert not reply.ok
    assert reply.title == "Only admins can manage the daily quote."
    assert said in " ".join(reply.lines)
    assert await saved(service) == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("on", "Say when"),
        ("on 09:00", "Say when"),
        ("on 25:00 Europe/Berlin", "not a time of day"),
        ("on 9am Europe/Berlin", "not a time of day"),
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
    service: QuoteService, text: str, says: str
) -> None:
    reply = await daily(service, text)
    assert not reply.ok
    assert says in "\n".join([reply.title, *reply.lines])
    assert await saved(service) == []


@pytest.mark.parametrize("junk", HOSTILE)
async def test_any_text_after_daily_on_gets_a_reply(service: QuoteService, junk: str) -> None:
    for text in (f"on {junk}", f"on 09:00 {junk}", f"on 09:00 UTC {junk}", junk):
        reply = await answer(service, f"daily {text}", admin())
        assert isinstance(reply, TextReply)


async def test_on_stores_the_schedule_and_status_shows_next_post_local_and_utc(
    service: QuoteService,
) -> None:
    reply = await daily(service, "on 9:00 europe/berlin dpo")
    assert reply.ok and reply.title == "Daily quote on: every day at 09:00 Europe/Berlin."
    (schedule,) = await ScheduleStore.of(service.store.conn).all()
    assert (schedule.platform, schedule.channel, schedule.theme) == ("discord", "123", "dpo-vs-ppo")
    assert (schedule.set_by, schedule.set_at, schedule.enabled) == ("ada", NOW, True)

    status = await daily(service, "")
    text = "\n".join(status.lines)
    assert status.title == "Daily quote: every day at 09:00 Europe/Berlin."
    assert "Theme: DPO vs. PPO: The Optimizer Debate" in text
    assert "Next post: Wed 15 Jan 2025, 09:00 CET (2025-01-15 08:00 UTC)" in text
    assert "Last post: none yet" in text


async def test_off_stops_it_and_status_says_so(service: QuoteService) -> None:
    assert (await daily(service, "off")).title == "There is no daily quote here to turn off."
    await daily(service, "on 18:30 America/New_York")
    assert (await daily(service, "off")).title == "Daily quote off for this channel."
    (schedule,) = await ScheduleStore.of(service.store.conn).all()
    assert not schedule.enabled
    status = await daily(service, "status")
    assert status.title == "The daily quote is off here."
    assert not any(line.startswith("Next post") for line in status.lines)


async def test_the_grammar_routes_daily_and_each_channel_has_its_own_schedule(
    service: QuoteService,
) -> None:
    await answer(service, "/lambert daily on 07:15 Asia/Tokyo", admin("slack"))
    other = RequestContext(platform="slack", channel="C2", is_admin=True)
    reply = await answer(service, "daily", other)
    assert isinstance(reply, TextReply) and reply.title == "No daily quote here yet."
    (schedule,) = await ScheduleStore.of(service.store.conn).all()
    assert (schedule.platform, schedule.channel, schedule.tz) == ("slack", "123", "Asia/Tokyo")


async def test_the_console_user_is_the_operator_and_may_set_a_schedule(
    service: QuoteService,
) -> None:
    out = io.StringIO()
    await run_console(service, io.StringIO("daily on 09:00 UTC\n"), out, interactive=False)
    assert "Daily quote on: every day at 09:00 UTC." in out.getvalue()
    (schedule,) = await ScheduleStore.of(service.store.conn).all()
    assert (schedule.platform, schedule.channel) == ("console", "console")


async def test_the_console_poster_prints_the_quote_and_returns_an_id(service: QuoteService) -> None:
    quote = await service.quote("dpo-simplicity")
    assert quote is not None
    out = io.StringIO()
    first = await ConsolePoster(out).post_daily("general", quote)
    second = await ConsolePoster(out).post_daily("general", quote)
    assert first != second
    assert out.getvalue().startswith("[daily quote for #general]\n" + quote.topic)
    assert "id: dpo-simplicity" in out.getvalue()
