"""`/lambert-daily` through the real client, and daily posts through the scheduler to Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta
from typing import Any

import pytest

from bot.adapters.discord.client import DiscordPlatform
from bot.adapters.discord.poster import make_client
from bot.config import Secret, Settings
from bot.daily.schedules import DAY_NAMES, parse_days
from bot.daily.store import DailyStore
from bot.runtime import Core
from tests.fakes.discord_platform import Callback, FakeDiscord, FakeUser
from tests.support.ticks import next_nine_in_berlin, tick_at


@pytest.fixture
def platform(settings: Settings, core: Core) -> DiscordPlatform:
    settings = Settings(**{**vars(settings), "discord_token": Secret("fake-token")})
    return DiscordPlatform(settings, core, client=make_client(guild_ready_timeout=0.05))


@pytest.fixture
async def fake(platform: DiscordPlatform, run_client: Any) -> AsyncIterator[FakeDiscord]:
    async with run_client(platform.client) as fake:
        yield fake


def schedules(core: Core) -> DailyStore:
    return core.daily.store


def with_channel(fake: FakeDiscord, payload: dict[str, Any], channel_id: int) -> dict[str, Any]:
    """Discord sends a channel option's object in data.resolved; the fake leaves that to us."""
    channel = {**fake.channel_payload(channel_id), "permissions": str(fake.app_permissions)}
    payload["data"]["resolved"] = {"channels": {str(channel_id): channel}}
    return payload


async def daily_set(
    fake: FakeDiscord,
    user: FakeUser,
    channel_id: int,
    theme: str | None = None,
    days: str | None = None,
) -> Callback:
    options: dict[str, Any] = {
        "channel": {"type": 7, "value": str(channel_id)},
        "time": "09:00",
        "timezone": "Europe/Berlin",
    }
    if theme is not None:
        options["theme"] = theme
    if days is not None:
        options["days"] = days
    payload = fake.slash_command("lambert-daily set", options, user=user)
    await fake.send_interaction(with_channel(fake, payload, channel_id))
    return await fake.next_callback()


async def test_a_member_without_manage_server_is_refused_and_nothing_is_written(
    core: Core, fake, service
) -> None:
    reply = await daily_set(fake, fake.member, fake.channels["quotes"])
    assert (reply.type, reply.ephemeral) == (4, True)
    assert reply.embeds[0]["title"] == "Only admins can manage the daily quote."
    assert "Manage Server" in reply.embeds[0]["description"]
    assert await schedules(core).schedules() == []

    # The status is anyone's to see (the group is hidden from members by default, though;
    # `/lambert daily` is the status for everyone).
    await fake.send_interaction(fake.slash_command("lambert-daily status", user=fake.member))
    assert (await fake.next_callback()).embeds[0]["title"] == "No daily quote here yet."
    await fake.send_interaction(fake.slash_command("lambert", {"query": "daily"}, user=fake.member))
    assert (await fake.next_callback()).embeds[0]["title"] == "No daily quote here yet."


async def test_an_admin_sets_a_schedule_that_a_due_tick_posts(
    core: Core, fake, platform, service
) -> None:
    quotes = fake.channels["quotes"]
    reply = await daily_set(fake, fake.admin, quotes, theme="dpo")
    assert reply.embeds[0]["title"] == "Daily quote on: every day at 09:00 Europe/Berlin."
    saved = await schedules(core).schedule("discord", str(quotes))
    assert saved is not None and saved.enabled
    assert (saved.local_time, saved.tz, saved.theme) == (time(9), "Europe/Berlin", "dpo-vs-ppo")
    assert saved.set_by == "Moderator"

    report = await tick_at(core, platform, next_nine_in_berlin() + timedelta(minutes=1))
    posted = await fake.next_channel_message()
    assert [p["channel"] for p in report.posted] == [str(quotes)]
    assert posted.channel_id == quotes
    footer = posted.embeds[0]["footer"]["text"]
    assert footer.startswith("DPO vs. PPO") and footer.endswith("/lambert-daily")
    assert posted.allowed_mentions == {"parse": []}


async def test_a_403_disables_that_schedule_and_the_next_channel_still_posts(
    core: Core, fake, platform, service
) -> None:
    general, quotes = fake.channels["general"], fake.channels["quotes"]
    for channel in (general, quotes):  # general sorts first: its failure comes first
        await daily_set(fake, fake.admin, channel)
    fake.fail_channel(general, 403)

    report = await tick_at(core, platform, next_nine_in_berlin() + timedelta(minutes=1))

    assert [m.channel_id for m in fake.channel_messages] == [quotes]
    assert [p["channel"] for p in report.posted] == [str(quotes)]
    broken = await schedules(core).schedule("discord", str(general))
    assert broken is not None and not broken.enabled
    assert "no permission to post in this channel" in (broken.disabled_reason or "")

    await fake.send_interaction(fake.slash_command("lambert-daily status", user=fake.admin))
    status = (await fake.next_callback()).embeds[0]
    assert status["title"] == "The daily quote is off here."
    assert "no permission to post in this channel" in status["description"]


async def test_off_and_status_default_to_the_current_channel(core: Core, fake, service) -> None:
    await daily_set(fake, fake.admin, fake.channel_id)
    await fake.send_interaction(fake.slash_command("lambert-daily off", user=fake.admin))
    assert (await fake.next_callback()).embeds[0]["title"] == "Daily quote off for this channel."
    saved = await schedules(core).schedule("discord", str(fake.channel_id))
    assert saved is not None and not saved.enabled


@pytest.mark.parametrize(
    ("typed", "first"),
    [("berl", "Europe/Berlin"), ("new york", "America/New_York"), ("", None), ("zz-none", None)],
)
async def test_timezone_autocomplete(fake, typed, first) -> None:
    options = {"time": "09:00", "timezone": typed}
    await fake.send_interaction(
        fake.autocomplete("lambert-daily set", options, focused="timezone", user=fake.admin)
    )
    choices = (await fake.next_callback()).choices
    assert len(choices) <= 25
    if first is not None:
        assert choices[0] == {"name": first, "value": first}
    elif typed:
        assert choices == []
    else:
        assert len(choices) == 25


async def test_theme_autocomplete_offers_slugs(fake) -> None:
    options = {"time": "09:00", "timezone": "UTC", "theme": "dp"}
    await fake.send_interaction(
        fake.autocomplete("lambert-daily set", options, focused="theme", user=fake.admin)
    )
    choices = (await fake.next_callback()).choices
    assert [c["value"] for c in choices] == ["dpo-vs-ppo"]


async def test_days_set_a_weekday_schedule_that_skips_the_other_days(
    core: Core, fake, platform, service
) -> None:
    quotes = fake.channels["quotes"]
    nine = next_nine_in_berlin()
    # Two days, not the next 09:00's: the day after it and the one two days later.
    after, later = (DAY_NAMES[(nine.weekday() + n) % 7] for n in (1, 3))
    reply = await daily_set(fake, fake.admin, quotes, days=f"{after}, {later}")
    saved = await schedules(core).schedule("discord", str(quotes))
    assert saved is not None
    assert saved.weekdays == parse_days(after) | parse_days(later)
    assert reply.embeds[0]["title"] == f"Daily quote on: {saved.when}."
    assert (
        "Next post: " + f"{nine + timedelta(days=1):%a %d %b %Y, %H:%M}"
        in (reply.embeds[0]["description"])
    )

    skipped = await tick_at(core, platform, nine + timedelta(minutes=1))
    assert (skipped.posted, skipped.missed) == ([], [])
    posted = await tick_at(core, platform, nine + timedelta(days=1, minutes=1))
    assert [p["channel"] for p in posted.posted] == [str(quotes)]
    assert [m.channel_id for m in fake.channel_messages] == [quotes]


async def test_days_that_are_not_days_are_refused_and_nothing_is_written(
    core: Core, fake, service
) -> None:
    reply = await daily_set(fake, fake.admin, fake.channels["quotes"], days="someday")
    assert reply.embeds[0]["title"] == "That schedule does not work."
    assert (
        "\u201csomeday\u201d is not days of the week: use weekdays"
        in (reply.embeds[0]["description"])
    )
    assert await schedules(core).schedules() == []


@pytest.mark.parametrize(
    ("typed", "choices"),
    [
        ("", [("weekdays", "weekdays"), ("weekends", "weekends"), ("every day", "every day"),
              ("mon,wed,fri", "mon,wed,fri")]),
        ("week", [("weekdays", "weekdays"), ("weekends", "weekends")]),
        ("Mon-Thu", [("Mon, Tue, Wed, Thu", "mon-thu")]),
        ("mon,", [("Mon", "mon,"), ("mon,wed,fri", "mon,wed,fri")]),
        ("sat, sun", [("weekends", "sat, sun")]),
        ("zz", []),
        # Days typed past a choice's 100 characters: not offered back, or Discord refuses the
        # whole answer; the usual sets still are.
        ("mon, " * 30, []),
        (" ".join(["mon"] * 40), []),
    ],
)  # fmt: skip
async def test_days_autocomplete(fake, typed: str, choices: list[tuple[str, str]]) -> None:
    options = {"time": "09:00", "timezone": "UTC", "days": typed}
    await fake.send_interaction(
        fake.autocomplete("lambert-daily set", options, focused="days", user=fake.admin)
    )
    found = (await fake.next_callback()).choices
    assert [(c["name"], c["value"]) for c in found] == choices
