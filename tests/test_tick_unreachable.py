"""`lambert daily tick` with one platform unreachable: the others post, and the unreachable
one's days are recorded failed with a retry time, never lost."""

from __future__ import annotations

import json
import socket
import sys
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.daily.schedules import Schedule
from bot.runtime import open_core
from tests.fakes.slack_platform import BOT_TOKEN
from tests.shim.fake_endpoints import DISCORD_URL, SLACK_URL
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.shim.processes import Lambert, lambert_env
from tests.support.paths import CORPUS

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes"),
    pytest.mark.usefixtures("no_process_left_behind"),
]

AT = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
TOKENS = {"DISCORD_TOKEN": "MTE0.fake-discord-token", "SLACK_BOT_TOKEN": BOT_TOKEN}


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def schedule(db: Path, discord_channel: str) -> None:
    settings = load_settings({}, db_path=db, corpus_path=CORPUS)
    set_at = datetime(2025, 3, 9, tzinfo=UTC)
    async with open_core(settings) as core:
        for platform, channel in (("discord", discord_channel), ("slack", "C0GENERAL")):
            await core.daily.store.save_schedules(
                [Schedule(platform, channel, time(8, 30), "UTC", None, True, "test", set_at)]
            )


@pytest.mark.parametrize("fault", ["discord refused", "discord 503", "slack refused", "slack 429"])
async def test_tick_posts_for_the_reachable_platform_and_retries_the_other(
    tmp_path: Path, fault: str
) -> None:
    db = tmp_path / "lambert.db"
    discord = RemoteDiscord()
    await discord.start()
    try:
        async with RemoteSlack() as slack:
            await schedule(db, str(discord.channel_id))
            env = lambert_env(db, discord, slack, **TOKENS)
            if fault == "discord refused":
                env[DISCORD_URL] = dead_url()
            elif fault == "discord 503":
                discord.fail("GET", "/users/@me", 503, {"message": "503", "code": 0})
            elif fault == "slack refused":
                env[SLACK_URL] = dead_url()
            else:  # Slack failing, not the token: auth.test rate-limited past the retries
                slack.rate_limit("auth.test", 10, retry_after=0)
            tick = Lambert(env, "daily", "tick", "--at", AT.isoformat(), "--force", "--json")
            done = await (await tick.start()).finish()
    finally:
        await discord.stop()
    assert done.code == 0, done.err
    report = json.loads(done.out)
    down = fault.split()[0]
    up = "slack" if down == "discord" else "discord"
    assert [p["platform"] for p in report["posted"]] == [up]
    (failed,) = report["failed"]
    assert failed["platform"] == down and failed["retry_at_utc"] and not failed["disabled"]
    assert f"could not reach {down}" in failed["reason"]
    assert "Traceback" not in done.err
    assert f"could not reach {down}" in done.err  # one warning line for the operator
