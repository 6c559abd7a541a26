""" "Lambert on this" warmed up by `serve`: the corpus's vectors computed in the background once
a platform is up, so the first use is fast; concurrent first uses share one computation."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.chat import on_this
from bot.config import load_settings
from bot.runtime import open_core
from bot.serving import serve as serving
from tests.shim.fakes import RemoteDiscord
from tests.support.corpus_gen import tiny_corpus
from tests.support.serving import PATIENCE, until


async def test_serve_computes_the_vectors_with_no_use_of_on_this(
    discord_fake: RemoteDiscord, tmp_path: Path
) -> None:
    db_path = tmp_path / "lambert.db"
    settings = load_settings(
        {"DISCORD_TOKEN": "fake-token"}, db_path=db_path, corpus_path=tiny_corpus(tmp_path, 5)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serving.serve(settings, stop))
    try:
        await until(lambda: list(tmp_path.glob("lambert.db.meaning-*.npy")), "the vectors", task)
    finally:
        stop.set()
    assert await asyncio.wait_for(task, PATIENCE) == 0
    assert discord_fake.callbacks == []  # nobody asked anything


async def test_two_first_uses_at_once_share_one_matcher(tmp_path: Path) -> None:
    settings = load_settings(
        {}, db_path=tmp_path / "lambert.db", corpus_path=tiny_corpus(tmp_path, 6)
    )
    async with open_core(settings) as core:
        first, second = await asyncio.gather(
            on_this.matcher_for(core.quotes), on_this.matcher_for(core.quotes)
        )
    assert first is second
    assert len(list(tmp_path.glob("lambert.db.meaning-*.npy"))) == 1
