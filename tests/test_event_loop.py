"""What keeps commands answered on a big corpus, checked by order and by counting, never by time.

Nothing is connected, so nothing is answered, before the corpus is loaded; and the work a
command does on the event loop's thread does not grow with the corpus (the corpus stays in
SQLite, whose work runs on aiosqlite's thread). How long the loop stalls is measured by the
benchmark (bench/lag.py), where a busy machine cannot fail a build.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from bot.chat.replies import QuoteReply
from bot.config import Settings, load_settings
from bot.runtime import PARSE_ELSEWHERE_BYTES, open_core
from bot.serving import serve as serving
from tests.fakes.slack_platform import APP_TOKEN, BOT_TOKEN, slash_command_payload
from tests.shim.fakes import RemoteDiscord, RemoteSlack
from tests.support.burst import Request, mixed_requests
from tests.support.corpus_gen import SyntheticCorpus, synthetic_corpus
from tests.support.serving import until

SMALL, BIG = 1_000, 10_000  # quotes; BIG's file (3.5 MB) is parsed in a child process
PATIENCE = 10.0  # seconds to wait for serve; Discord's start alone waits 2 s for guilds


@dataclass(frozen=True)
class Corpora:
    small: SyntheticCorpus
    big: SyntheticCorpus


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> Corpora:
    folder = tmp_path_factory.mktemp("corpora")
    big = synthetic_corpus(folder, BIG)
    assert big.path.stat().st_size >= PARSE_ELSEWHERE_BYTES
    return Corpora(synthetic_corpus(folder, SMALL), big)


def settings_for(corpus: SyntheticCorpus, db: Path, env: dict[str, str] | None = None) -> Settings:
    return load_settings(env or {}, db_path=db, corpus_path=corpus.path)


# ---- order: nothing is served before the corpus is loaded ------------------------------------


class AtCorpusLoaded(logging.Handler):
    """Takes `snapshot()` the moment bot.runtime logs that the corpus is loaded."""

    def __init__(self, snapshot: Callable[[], dict[str, int]]) -> None:
        super().__init__(logging.INFO)
        self.snapshot = snapshot
        self.seen: dict[str, int] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("corpus loaded"):
            self.seen = self.snapshot()


@contextmanager
def watching_the_load(snapshot: Callable[[], dict[str, int]]) -> Iterator[AtCorpusLoaded]:
    logger = logging.getLogger("bot.runtime")
    handler, level = AtCorpusLoaded(snapshot), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_serve_connects_and_answers_only_after_the_corpus_is_loaded(
    corpora: Corpora, discord_fake: RemoteDiscord, slack_fake: RemoteSlack, tmp_path: Path
) -> None:
    env = {
        "DISCORD_TOKEN": "fake-token",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
    }
    settings = settings_for(corpora.big, tmp_path / "lambert.db", env)

    def platform_traffic() -> dict[str, int]:
        return {
            "discord REST requests": len(discord_fake.requests),
            "discord gateway frames": len(discord_fake.gateway_frames),
            "slack API calls": len(slack_fake.api_calls.items),
            "slack sockets": slack_fake.socket_count,
        }

    def connected() -> bool:
        return bool(discord_fake.gateway_frames) and slack_fake.socket_count > 0

    stop = asyncio.Event()
    with watching_the_load(platform_traffic) as load:
        task = asyncio.create_task(serving.serve(settings, stop))
        try:
            await until(connected, "both platforms connect", task)
            await discord_fake.interact(discord_fake.slash_command("lambert", {"query": "dpo"}))
            on_discord = await discord_fake.next_callback()
            payload = slash_command_payload("rlhf", response_url=slack_fake.response_url("cmd"))
            envelope = await slack_fake.push_envelope("slash_commands", payload)
            on_slack = await slack_fake.answer_to(envelope, "cmd")
        finally:
            stop.set()
        assert await asyncio.wait_for(task, PATIENCE) == 0

    # The moment the load finished, neither platform had seen lambert at all.
    assert load.seen == dict.fromkeys(platform_traffic(), 0)
    assert on_discord.type == 4 and on_discord.embeds
    assert on_slack["blocks"]


# ---- counting: a command's work on the loop does not grow with the corpus --------------------


@contextmanager
def counting_calls_on_this_thread() -> Iterator[list[int]]:
    """Counts Python and builtin calls made on this thread (the event loop's) meanwhile: work
    handed to aiosqlite's thread or asyncio.to_thread is not counted."""
    count = [0]

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(profile)
    try:
        yield count
    finally:
        sys.setprofile(None)


async def loop_work_by_kind(corpus: SyntheticCorpus, db: Path) -> dict[str, int]:
    """The same seeded burst, one command at a time: the most calls a command of each kind
    made on the loop's thread. Every command must get a reply."""
    most: dict[str, int] = defaultdict(int)
    async with open_core(settings_for(corpus, db)) as core:
        requests: list[Request] = mixed_requests(core, corpus)
        replies = []
        for request in requests:
            with counting_calls_on_this_thread() as calls:
                replies.append(await request.run())
            most[request.kind] = max(most[request.kind], calls[0])
    assert all(reply is not None for reply in replies)
    assert sum(isinstance(r, QuoteReply) for r in replies) > len(replies) / 4
    return most


async def test_a_commands_work_on_the_loop_does_not_grow_with_the_corpus(
    corpora: Corpora, tmp_path: Path
) -> None:
    small = await loop_work_by_kind(corpora.small, tmp_path / "small.db")
    big = await loop_work_by_kind(corpora.big, tmp_path / "big.db")
    assert big.keys() == small.keys()
    # Ten times the quotes. Walking them, or their ids or words, on the loop would multiply
    # the count; a command's own parsing and replying stays the same (plus a little for the
    # loop's own iterations, which vary with thread timing).
    grew = {kind: (small[kind], big[kind]) for kind in big if big[kind] > 1.5 * small[kind] + 200}
    assert grew == {}, f"calls on the loop's thread, {SMALL:,} → {BIG:,} quotes: {grew}"
