"""`lambert serve` in process on Discord and Slack: commands, daily posts, a bounded stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.daily.clock import StoppedClock
from bot.daily.scheduler import Scheduler
from bot.runtime import open_core
from bot.serving import serve as serving
from tests.fakes.slack_platform import APP_TOKEN, BOT_TOKEN, CHANNEL_ID, slash_command_payload
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.support.paths import CORPUS
from tests.support.serving import PATIENCE, daily_rows, due_now, until


def serve_settings(db_path: Path, *, slack: bool) -> Settings:
    env = {"DISCORD_TOKEN": "fake-token"}
    if slack:
        env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    return load_settings(env, db_path=db_path, corpus_path=CORPUS)


@pytest.mark.slow
async def test_serve_answers_and_posts_on_discord_and_slack_then_stops(
    discord_fake: RemoteDiscord, slack_fake: RemoteSlack, db_path: Path
) -> None:
    settings = serve_settings(db_path, slack=True)
    discord_channel = str(discord_fake.channel_id)
    await due_now(settings, ("discord", discord_channel), ("slack", CHANNEL_ID))
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop))
    try:
        # The scheduler starts once both platforms are up; its first pass posts both days.
        await until(lambda: discord_fake.posts and slack_fake.posts, "the daily posts", task)
        await discord_fake.interact(discord_fake.slash_command("lambert", {"query": "dpo"}))
        reply = await discord_fake.next_callback()
        envelope = await slack_fake.push_envelope(
            "slash_commands",
            slash_command_payload("rlhf", response_url=slack_fake.response_url("cmd")),
        )
        answer = await slack_fake.answer_to(envelope, "cmd")
    finally:
        stop.set()
    assert await asyncio.wait_for(task, PATIENCE) == 0

    assert reply.type == 4 and reply.ephemeral and reply.embeds
    assert answer["response_type"] == "ephemeral" and answer["blocks"]
    (on_discord,) = discord_fake.posts
    (on_slack,) = slack_fake.posts
    assert (on_discord.channel, on_slack.channel) == (discord_channel, CHANNEL_ID)
    assert daily_rows(db_path) == {
        ("discord", discord_channel): ("posted", on_discord.message_id),
        ("slack", CHANNEL_ID): ("posted", on_slack.message_id),
    }
    assert discord_fake.unhandled == []
    assert slack_fake.socket_count == 0  # disconnected on stop


@pytest.mark.slow
async def test_a_post_that_hangs_delays_the_stop_only_by_the_grace_period(
    discord_fake: RemoteDiscord,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(serving, "SHUTDOWN_GRACE", 0.2)
    settings = serve_settings(db_path, slack=False)
    channel = str(discord_fake.channel_id)
    await due_now(settings, ("discord", channel))
    discord_fake.hold_posts = asyncio.Event()  # Discord never answers the post
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop))
    await until(lambda: discord_fake.posts, "the daily post", task)
    with caplog.at_level(logging.WARNING, logger="bot.serving.serve"):
        stop.set()
        assert await asyncio.wait_for(task, PATIENCE) == 0
    assert "1 daily post(s) still sending after 0.2 s" in caplog.text
    assert daily_rows(db_path)[("discord", channel)][0] == "sending"

    # The next start cannot know whether it went out, and says so instead of posting again.
    async with open_core(settings) as core:
        report = await Scheduler(
            core.quotes, core.daily.with_clock(StoppedClock(datetime.now(UTC))), {}
        ).tick()
    assert report.posted == []
    assert daily_rows(db_path)[("discord", channel)][0] == "unknown"
