"""`StatsRecorder`: counts in memory, written in batches; never slows or fails a command."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.stats.store import COMMAND, POSTED, QUOTE, THEME, CountKey, Place, WordsKey
from bot.stats.words import search_words

if TYPE_CHECKING:
    from bot.stats.sql_store import StateStatsStore

log = logging.getLogger(__name__)

FLUSH_SECONDS = 30.0  # how often `lambert serve` writes the counts
KEEP_WORDS_DAYS = 30  # the words of searches that found nothing are forgotten after this
# Pending keys kept while the store cannot be written (a day's traffic is a few thousand);
# past it new keys are dropped and counted, so an outage never grows memory without end.
MAX_PENDING = 50_000


class StatsRecorder:
    """Counts by UTC day and place, held in memory (no I/O) until `flush()` writes them in one
    transaction. `recording` False (LAMBERT_STATS=off) counts nothing; stored counts still read."""

    def __init__(
        self,
        store: StateStatsStore | None = None,
        *,
        recording: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.store = store
        self.recording = recording and store is not None
        self.now = now
        self.max_pending = max_pending
        self._pending: Counter[CountKey | WordsKey] = Counter()
        self._lock = asyncio.Lock()
        self._failing = False
        self._dropped = 0

    def today(self) -> date:
        return self.now().astimezone(UTC).date()

    @property
    def pending(self) -> int:
        return sum(self._pending.values())

    def command(self, place: Place, verb: str, outcome: str) -> None:
        """`verb`: one of the verbs, or random, theme, lookup, another."""
        self._count(place, COMMAND, verb, outcome)

    def shown(self, place: Place, theme: str, quote_id: str) -> None:
        self._count(place, THEME, theme)
        self._count(place, QUOTE, quote_id)

    def posted(self, place: Place, kind: str) -> None:
        """`kind`: preview (Post clicked) or daily."""
        self._count(place, POSTED, kind)

    def daily_posted(self, platform: str, channel: str) -> None:
        self.posted(Place(platform, "", channel), "daily")  # the scheduler knows no workspace

    def empty_search(self, place: Place, text: str) -> None:
        """A search found nothing; its normalised words are kept KEEP_WORDS_DAYS days."""
        words = search_words(text) if self.recording else ""
        if words:
            self._add(WordsKey(self.today(), *place, words))

    def _count(self, place: Place, metric: str, name: str, detail: str = "") -> None:
        if self.recording:
            self._add(CountKey(self.today(), *place, metric, name, detail))

    def _add(self, key: CountKey | WordsKey) -> None:
        if key not in self._pending and len(self._pending) >= self.max_pending:
            self._dropped += 1
            return
        self._pending[key] += 1

    async def flush(self) -> bool:
        """Write what is pending in one transaction; True when nothing is left pending. Never
        raises but for cancellation: a failed write keeps the counts for the next try and is
        logged once, as one line, until a write succeeds again."""
        if self.store is None:
            return True
        async with self._lock:
            if not self._pending:
                return True
            pending, self._pending = self._pending, Counter()
            try:
                await self.store.add(pending, self.today() - timedelta(days=KEEP_WORDS_DAYS - 1))
            except BaseException as exc:
                pending.update(self._pending)  # back in front of whatever was counted meanwhile
                self._pending = pending
                if not isinstance(exc, Exception):
                    raise
                if not self._failing:
                    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                    log.warning(
                        "stats: could not save %d counts (%s); keeping them for the next try",
                        sum(pending.values()),
                        detail,
                    )
                self._failing = True
                return False
        if self._failing:
            self._failing = False
            log.info("stats: saved again")
        if self._dropped:
            log.warning(
                "stats: %d counts were dropped while they could not be saved", self._dropped
            )
            self._dropped = 0
        return True

    async def flush_every(self, stop: asyncio.Event, seconds: float = FLUSH_SECONDS) -> None:
        """`lambert serve`'s writer, until `stop` (the last flush is the core's, at close)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
            if not stop.is_set():
                await self.flush()
