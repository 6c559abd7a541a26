"""Opening the core for any command: read the corpus, open the database, build the services."""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import importlib
import logging
import operator
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.coordination.lease import Leases, LeaseTerms
from bot.daily.clock import Clock
from bot.daily.service import DailyService
from bot.quotes.corpus import Corpus, decode_corpus, read_corpus_bytes
from bot.quotes.service import QuoteService
from bot.quotes.store import Progress, meta, sync_corpus
from bot.stats.recorder import StatsRecorder
from bot.storage.connection import connect, explained, stored_value
from bot.storage.lazy import Forwarder, OnFirstUse

if TYPE_CHECKING:
    from bot.installs.store import StateInstallStore as InstallStore
    from bot.previews.store import PreviewStore

log = logging.getLogger(__name__)

# Parsed in a child process from this size (3,000 quotes, 25 ms): below, a process costs more.
PARSE_ELSEWHERE_BYTES = 1_000_000


async def _decode_elsewhere(path: Path, raw: bytes) -> Corpus:
    """decode_corpus off the loop: in a child process for a big file (tomli holds the GIL:
    a thread stopped the loop 0.9 s at 100,000 quotes; docs/performance.md, "Loop lag")."""
    if len(raw) < PARSE_ELSEWHERE_BYTES:
        return await asyncio.to_thread(decode_corpus, path, raw)
    import multiprocessing  # here: a start with an unchanged corpus never needs them
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # spawn: forking a process with threads (aiosqlite's) is unsafe. A spawned child imports
    # the main script again: one without a __main__ guard breaks the pool (then: a thread).
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, decode_corpus, path, raw)
    except BrokenProcessPool:
        log.warning("could not parse the corpus in a child process; parsing it in a thread")
        return await asyncio.to_thread(decode_corpus, path, raw)
    finally:
        # Not waiting: the idle child exits on its own, and joining it would block the loop.
        pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class Core:
    """What every adapter and command is handed (installs: an OAuth Slack app's workspaces)."""

    quotes: QuoteService
    daily: DailyService
    previews: PreviewStore  # Post clicked twice posts once
    stats: StatsRecorder
    installs: InstallStore | None = None
    leases: Leases | None = None


@asynccontextmanager
async def open_core(
    settings: Settings,
    *,
    integrity_check: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[Core]:
    """The services over an up-to-date database; closed on exit. A corpus with the bytes last
    loaded is not parsed; a changed one is validated before the database opens, so a bad file
    never creates or writes it. The shared state opens on first use (`ask` never opens it)."""
    path = settings.corpus_path
    raw = await asyncio.to_thread(read_corpus_bytes, path, settings.corpus_max_mb)
    digest = await asyncio.to_thread(lambda data: hashlib.sha256(data).hexdigest(), raw)
    parsed: list[Corpus] = []
    with ExitStack() as paused:
        if await asyncio.to_thread(stored_value, settings.db_path, "corpus_file") != digest:
            # Paused from the parse to the end of the load: the parsed corpus lives throughout.
            paused.enter_context(_collector_paused())
            if progress:
                progress(0, 0)  # the parse is most of a big load's time
            parsed.append(await _decode_elsewhere(path, raw))
        # Pages are checked before a corpus load writes to them.
        checked = integrity_check or bool(parsed)
        async with connect(settings.db_path, integrity_check=checked) as conn:
            if await meta(conn, "corpus_file") != digest:
                # Freed inside the pause, on the loop's thread (35-40 ms at 100,000 quotes,
                # nothing served yet), so the next collection has nothing of the load to walk.
                with explained(settings.db_path, "loading the corpus"), _collector_paused():
                    corpus = parsed or [await _decode_elsewhere(path, raw)]
                    if await sync_corpus(conn, corpus[0], digest, progress):
                        log.info("corpus loaded: %d quotes from %s", len(corpus[0].quotes), path)
                    corpus.clear()
            parsed.clear()  # if loaded meanwhile by another process: not needed
            paused.close()
            # This frame stays at `yield` while serving: not with the file's bytes (35 MB).
            del raw
            quotes = await QuoteService.create(conn)
            state = OnFirstUse(functools.partial(_open_state, settings, quotes))
            backend = "postgresql" if settings.database_url else "sqlite"

            def stored(name: str) -> Any:
                return Forwarder(state, operator.itemgetter(name), backend)

            stats = StatsRecorder(stored("stats"), recording=settings.stats)
            leases = Leases(stored("leases"), LeaseTerms.lasting(settings.lease_seconds))
            try:
                daily = DailyService(stored("daily"), clock, stats, leases)
                yield Core(quotes, daily, stored("previews"), stats, stored("installs"), leases)
            finally:
                try:
                    await stats.flush()  # a one-shot command's counts; serve's last ones
                finally:
                    await state.aclose()


async def _open_state(
    settings: Settings, quotes: QuoteService, stack: AsyncExitStack
) -> dict[str, Any]:
    """The engine (PostgreSQL given a URL, else the SQLite file) and its stores, by name.
    Imported here, in a thread: SQLAlchemy's 0.4 s would cost `ask` and stall the loop."""
    await asyncio.to_thread(importlib.import_module, "bot.storage.engine")
    from bot.coordination.store import LeaseStore
    from bot.daily.store import DailyStore
    from bot.installs.store import StateInstallStore, TokenSeal
    from bot.previews.store import PreviewStore
    from bot.stats.sql_store import StateStatsStore
    from bot.storage.engine import open_engine

    url = settings.database_url.reveal() if settings.database_url else ""
    engine = await stack.enter_async_context(open_engine(settings.db_path, url))
    installs = StateInstallStore(engine, TokenSeal(settings.secret_key.reveal()))
    await installs.check_tokens()  # a wrong LAMBERT_SECRET_KEY stops here, in one line
    await quotes.load_ids()
    return {
        "daily": DailyStore(engine, quotes.ids),
        "previews": PreviewStore(engine),
        "stats": StateStatsStore(engine),
        "installs": installs,
        "leases": LeaseStore(engine),
    }


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic collection while a corpus loads: each would walk its millions of live objects
    for nothing (60-110 ms at 100,000 quotes, on any thread)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
