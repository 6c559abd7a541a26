"""A daily post whose answer is lost goes out at most once, and its day says what we know.

The real discord.py and slack_sdk clients post through the scheduler to the loopback fakes,
which store the message and then lose the answer (connection dropped, answered after the
client's timeout, an edge's 503), refuse before storing (nothing listening, 429), over
several ticks of the same day and the next. Discord resends with the same nonce inside its
dedupe window and ends `posted`; Slack, which cannot dedupe, ends `unknown` and never posts
a second time.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.adapters.discord.poster import DiscordPoster, daily_nonce, open_discord_poster
from bot.adapters.slack.poster import SlackPoster, web_client
from bot.chat.daily_verbs import describe_outcome
from bot.config import Secret, Settings
from bot.daily.clock import StoppedClock
from bot.daily.days import DayRecord, PostStatus
from bot.daily.report import TickReport
from bot.daily.scheduler import Scheduler
from bot.quotes.service import QuoteService
from bot.runtime import Core
from tests.fakes.discord_platform import FakeDiscord
from tests.fakes.slack_platform import BOT_TOKEN, CHANNEL_ID, FakeSlack
from tests.support.slack import Sleeps

DAY = date(2025, 6, 2)
AT = time(9)
# Small, so a "late" answer comes after the client gave up without the test waiting long.
CLIENT_TIMEOUT = 0.2


def instant(hh: int, mm: int, ss: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), UTC)


# The day's ticks: due, each retry that may be due, later that day, and after it.
TICKS = [
    instant(9, 0, 5),
    instant(9, 1, 10),
    instant(9, 3, 30),
    instant(9, 10),
    instant(15, 0),
    instant(0, 30, day=DAY + timedelta(1)),
]


@dataclass
class Rig:
    """One platform's real client over its fake: how to break it, and what it holds."""

    platform: str
    channel: str
    poster: DiscordPoster | SlackPoster
    lose_answers: Callable[[str, int], None]
    unreachable: Callable[[], AbstractAsyncContextManager[None]]
    rate_limit: Callable[[], None]  # the next post gets a 429 asking for 60 s
    release_late: Callable[[], None]
    stored: Callable[[], list[str]]  # ids of the messages the platform holds for the channel


@pytest.fixture
async def discord_rig(fake_discord: FakeDiscord, settings: Settings) -> AsyncIterator[Rig]:
    token_settings = Settings(**{**vars(settings), "discord_token": Secret("fake-token")})
    channel = fake_discord.channel_id
    async with open_discord_poster(token_settings, io.StringIO()) as poster:
        poster.timeout = CLIENT_TIMEOUT
        yield Rig(
            "discord",
            str(channel),
            poster,
            lambda fault, times: fake_discord.lose_answers(channel, fault, times=times),
            fake_discord.unreachable,
            # Above discord.py's 30 s ceiling: RateLimited comes back instead of a real sleep.
            lambda: fake_discord.fail_channel(channel, 429, retry_after=60.0, times=1),
            fake_discord.late_release.set,
            lambda: [
                str(m.message["id"])
                for m in fake_discord.channel_messages
                if m.channel_id == channel and m.message
            ],
        )


@pytest.fixture
async def slack_rig(fake_slack: FakeSlack, sleeps: Sleeps) -> AsyncIterator[Rig]:
    settings = Settings(slack_bot_token=Secret(BOT_TOKEN))
    client = web_client(settings, base_url=fake_slack.api_url, sleep=sleeps, timeout=CLIENT_TIMEOUT)
    yield Rig(
        "slack",
        CHANNEL_ID,
        SlackPoster(client),
        lambda fault, times: fake_slack.lose_answers("chat.postMessage", fault, times=times),
        fake_slack.unreachable,
        # Above the poster's inline wait: it goes back to the scheduler as a retry.
        lambda: fake_slack.rate_limit("chat.postMessage", times=1, retry_after=60),
        fake_slack.late_release.set,
        lambda: [ts for (channel, ts) in fake_slack.messages if channel == CHANNEL_ID],
    )


@pytest.fixture(params=["discord", "slack"])
def rig(request: pytest.FixtureRequest) -> Rig:
    return request.getfixturevalue(f"{request.param}_rig")  # type: ignore[no-any-return]


async def turn_on(core: Core, rig: Rig) -> None:
    daily = core.daily.with_clock(StoppedClock(instant(8, 0)))
    await daily.turn_on(rig.platform, rig.channel, AT, "UTC", None, "test")


async def tick(core: Core, rig: Rig, at: datetime) -> TickReport:
    daily = core.daily.with_clock(StoppedClock(at))
    return await Scheduler(core.quotes, daily, {rig.platform: rig.poster}).tick()


async def day_record(core: Core, rig: Rig) -> DayRecord:
    return (await core.daily.store.records_since(DAY))[(rig.platform, rig.channel, DAY)]


async def run_day(core: Core, rig: Rig, ticks: list[datetime] = TICKS) -> DayRecord:
    for at in ticks:
        await tick(core, rig, at)
    return await day_record(core, rig)


def assert_honest(record: DayRecord, rig: Rig) -> None:
    """At most one message, and `posted` names it; nothing stored is never `posted`."""
    stored = rig.stored()
    assert len(stored) <= 1
    if record.status is PostStatus.POSTED:
        assert stored == [record.message_id]
    if not stored:
        assert record.status is not PostStatus.POSTED


# What each lost answer ends as: Discord resends with the nonce, Slack cannot.
LOST = {"discord": PostStatus.POSTED, "slack": PostStatus.UNKNOWN}


@pytest.mark.parametrize("fault", ["drop", "late", "503"])
async def test_a_stored_post_whose_answer_is_lost_goes_out_once(
    core: Core, service: QuoteService, rig: Rig, fault: str
) -> None:
    await turn_on(core, rig)
    rig.lose_answers(fault, 1)

    first = await tick(core, rig, TICKS[0])
    rig.release_late()  # the late answer now reaches a client that stopped listening
    record = await run_day(core, rig, TICKS[1:])

    assert len(rig.stored()) == 1
    assert record.status is LOST[rig.platform]
    assert_honest(record, rig)
    assert first.posted == []
    if rig.platform == "discord":
        assert record.attempts == 2  # one resend, answered with the first message
    else:
        assert record.attempts == 1  # never sent again
        expected = "503" if fault == "503" else "it may have posted"
        assert expected in (record.reason or "")


async def test_a_post_refused_before_anything_was_sent_is_retried_and_posts_once(
    core: Core, service: QuoteService, rig: Rig
) -> None:
    await turn_on(core, rig)
    async with rig.unreachable():
        report = await tick(core, rig, TICKS[0])
    assert report.failed[0]["retry_at_utc"] is not None
    assert (await day_record(core, rig)).status is PostStatus.RETRYING
    assert rig.stored() == []

    record = await run_day(core, rig, TICKS[1:])

    assert record.status is PostStatus.POSTED
    assert record.reason is None and record.attempts == 2
    assert_honest(record, rig)


async def test_a_rate_limited_post_is_retried_when_asked_and_posts_once(
    core: Core, service: QuoteService, rig: Rig
) -> None:
    await turn_on(core, rig)
    rig.rate_limit()

    report = await tick(core, rig, TICKS[0])
    assert report.failed[0]["retry_at_utc"] == "2025-06-02T09:01:05Z"  # 60 s, as asked
    record = await run_day(core, rig, TICKS[1:])

    assert record.status is PostStatus.POSTED
    assert_honest(record, rig)


async def test_discord_answers_a_resend_with_the_first_message(
    core: Core, service: QuoteService, discord_rig: Rig, fake_discord: FakeDiscord
) -> None:
    await turn_on(core, discord_rig)
    discord_rig.lose_answers("drop", 1)

    record = await run_day(core, discord_rig)

    posts = [r for r in fake_discord.requests if r.path.endswith("/messages")]
    nonce = daily_nonce(fake_discord.channel_id, DAY)
    assert [(r.json["nonce"], r.json["enforce_nonce"]) for r in posts] == [(nonce, True)] * 2
    assert fake_discord.deduped == 1
    assert record.status is PostStatus.POSTED
    assert record.message_id == fake_discord.channel_messages[0].message["id"]  # type: ignore[index]


async def test_discord_without_an_answer_past_the_nonce_window_is_unknown_not_failed(
    core: Core, service: QuoteService, discord_rig: Rig
) -> None:
    await turn_on(core, discord_rig)
    discord_rig.lose_answers("drop", 2)  # the resend's answer is lost too

    record = await run_day(core, discord_rig)

    assert record.status is PostStatus.UNKNOWN
    assert record.attempts == 2  # the next retry would fall outside the dedupe window
    assert len(discord_rig.stored()) == 1
    # Its quote stays drawn: a day that may have posted does not hand it back to the bag.


async def test_discord_is_not_resent_once_its_window_passed_while_nobody_ticked(
    core: Core, service: QuoteService, discord_rig: Rig
) -> None:
    await turn_on(core, discord_rig)
    discord_rig.lose_answers("503", 1)

    record = await run_day(core, discord_rig, [TICKS[0], instant(15, 0)])

    assert record.status is PostStatus.UNKNOWN
    assert record.attempts == 1
    assert "resend safely" in (record.reason or "")
    assert len(discord_rig.stored()) == 1


async def test_an_unknown_day_is_shown_with_its_reason(
    core: Core, service: QuoteService, slack_rig: Rig
) -> None:
    await turn_on(core, slack_rig)
    slack_rig.lose_answers("drop", 1)
    await run_day(core, slack_rig)

    status = await core.daily.status("slack", CHANNEL_ID)

    assert status is not None and status.last is not None
    assert describe_outcome(status.last) == (
        f"unknown for 2025-06-02 (quote {status.last.quote_id}): no answer from Slack "
        "(ServerDisconnectedError): it may have posted; not posted again"
    )


async def test_the_tick_report_lists_an_unknown_day_as_unknown_not_failed(
    core: Core, service: QuoteService, slack_rig: Rig
) -> None:
    """`lambert daily tick --json`: a day that may have posted is not a failure to retry."""
    await turn_on(core, slack_rig)
    slack_rig.lose_answers("drop", 1)

    report = (await tick(core, slack_rig, TICKS[0])).as_json()

    assert (report["posted"], report["failed"]) == ([], [])
    (unknown,) = report["unknown"]
    assert unknown["channel"] == CHANNEL_ID and unknown["reason"].startswith("outcome unknown")
    assert len(slack_rig.stored()) == 1


async def test_a_refusal_after_an_unanswered_send_is_unknown_not_failed(
    core: Core, service: QuoteService, discord_rig: Rig, fake_discord: FakeDiscord
) -> None:
    await turn_on(core, discord_rig)
    discord_rig.lose_answers("drop", 1)
    await tick(core, discord_rig, TICKS[0])
    fake_discord.fail_channel(fake_discord.channel_id, 403, times=1)  # the bot lost access

    record = await run_day(core, discord_rig, TICKS[1:])

    assert record.status is PostStatus.UNKNOWN  # the first send may be in the channel
    assert len(discord_rig.stored()) == 1
    schedule = await core.daily.store.schedule("discord", discord_rig.channel)
    assert schedule is not None and not schedule.enabled


@pytest.mark.parametrize(
    ("channel", "day"),
    [
        (1, date(1, 1, 1)),
        (1_200_000_000_000_000_010, DAY),
        (2**64 - 1, date(9999, 12, 31)),
    ],
)
def test_the_daily_nonce_fits_discords_25_characters(channel: int, day: date) -> None:
    nonce = daily_nonce(channel, day)
    assert len(nonce) == 18 and nonce.isalnum()
    assert int(nonce[:13], 36) == channel and date.fromordinal(int(nonce[13:], 36)) == day


def test_the_daily_nonce_differs_for_every_other_channel_or_day() -> None:
    channels = [1, 36, 1_200_000_000_000_000_010, 1_200_000_000_000_000_011, 2**64 - 1]
    days = [DAY, DAY + timedelta(1), date(9999, 12, 31)]
    nonces = {daily_nonce(c, d) for c in channels for d in days}
    assert len(nonces) == len(channels) * len(days)
