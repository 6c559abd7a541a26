"""The event loop stays free over a 100,000-quote corpus: no callback may run 100 ms or more.

The loop runs in asyncio's debug mode with `slow_callback_duration` = 100 ms, which logs every
callback (a coroutine step included) that holds the loop that long. Each callback's wall time
and the loop thread's CPU time are also measured: a slow callback that did at least half the
threshold's work itself fails the test; one that merely waited (the OS ran another process on
a busy two-core machine) is shown but not failed, since no change to lambert would help it.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.chat.grammar import RequestContext, another, answer
from bot.chat.replies import QuoteReply
from bot.config import Settings, load_settings
from bot.quotes.corpus import read_corpus
from bot.quotes.search import STOPWORDS, words
from bot.runtime import Core, open_core
from tests.support.hostile import HOSTILE
from tests.support.paths import CORPUS

QUOTES = 100_000
SLOW = 0.1  # seconds: the threshold for a callback
# Loading hands every heavy step to a thread: a step that keeps 20 ms of CPU on the loop's own
# thread is load work done in the wrong place (decoding 35 MB was 21 ms, full garbage
# collections over the half-loaded corpus 37-110 ms), even when it happens to finish quickly.
LOAD_STEP_CPU = 0.02
MADE_UP_WORDS = 20_000  # a big corpus's long tail of rare words, beside the real ones
SYLLABLES = "ka lo mi ren tor va sel qui dra mon pex lu zan fi gor bel tri sko nar wen"
SOURCES = ("Interconnects", "Latent Space", "Podcast", "Talk", "Lecture notes")


@dataclass(frozen=True)
class BigCorpus:
    settings: Settings
    ids: list[str]
    vocabulary: list[str]
    load_seconds: float
    slow_during_load: list[Slow]


@dataclass(frozen=True)
class Slow:
    callback: str
    wall: float
    cpu: float  # of the loop's thread: the callback's own work

    @property
    def own_work(self) -> bool:
        return self.cpu >= SLOW / 2

    def __str__(self) -> str:
        return f"{self.wall * 1000:.0f} ms ({self.cpu * 1000:.0f} ms CPU): {self.callback}"


@contextmanager
def watching_slow_callbacks(loop: asyncio.AbstractEventLoop) -> Iterator[list[Slow]]:
    """Debug mode with a 100 ms threshold on `loop` (asyncio then logs each slow callback,
    shown by pytest on a failure); yields the callbacks that took that long, or that spent
    LOAD_STEP_CPU on the loop's thread, measured."""
    found: list[Slow] = []
    run = asyncio.events.Handle._run

    def timed(handle: asyncio.Handle) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            run(handle)
        finally:
            took, worked = time.perf_counter() - wall, time.thread_time() - cpu
            if took >= SLOW or worked >= LOAD_STEP_CPU:
                # A task's step shows the task (its name says which request it is).
                what = getattr(handle._callback, "__self__", handle)  # type: ignore[attr-defined]
                found.append(Slow(repr(what)[:300], took, worked))

    was_debug, was_slow = loop.get_debug(), loop.slow_callback_duration
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW
    asyncio.events.Handle._run = timed  # type: ignore[method-assign]
    try:
        yield found
    finally:
        asyncio.events.Handle._run = run  # type: ignore[method-assign]
        loop.set_debug(was_debug)
        loop.slow_callback_duration = was_slow


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def write_big_corpus(path: Path, rng: random.Random) -> tuple[list[str], list[str]]:
    """The real themes, and QUOTES generated quotes whose words follow a Zipf-like law over
    the real corpus's words and MADE_UP_WORDS invented ones. Returns (ids, vocabulary)."""
    real = read_corpus(CORPUS)
    known = list(dict.fromkeys(w for q in real.quotes for w in words(q.text) if w.isalpha()))
    taken = set(known)
    while len(taken) < len(known) + MADE_UP_WORDS:
        taken.add("".join(rng.choices(SYLLABLES.split(), k=rng.randint(2, 4))))
    vocabulary = known + sorted(taken - set(known))
    cumulative = list(itertools.accumulate(1.0 / (rank + 3) for rank in range(len(vocabulary))))
    lines = []
    for theme in real.themes:
        aliases = ", ".join(_toml_string(a) for a in theme.aliases)
        lines += ["[[themes]]", f"slug = {_toml_string(theme.slug)}"]
        lines += [f"title = {_toml_string(theme.title)}", f"aliases = [{aliases}]", ""]
    slugs = [t.slug for t in real.themes]
    ids, texts = [], set()
    for n in range(QUOTES):
        chosen = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(10, 30))
        text = " ".join(chosen).capitalize() + "."
        if text in texts:
            continue
        texts.add(text)
        ids.append(f"{chosen[0]}-{chosen[-1]}-{n}")
        topic = "On " + " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=3))
        lines += [
            "[[quotes]]",
            f"id = {_toml_string(ids[-1])}",
            f"theme = {_toml_string(slugs[n % len(slugs)])}",
            f"topic = {_toml_string(topic)}",
            f"source = {_toml_string(rng.choice(SOURCES))}",
            f'kind = "{"quote" if n % 3 else "paraphrase"}"',
            f"text = {_toml_string(text)}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return ids, vocabulary


@pytest.fixture(scope="session")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> BigCorpus:
    """A 100,000-quote corpus loaded into a database once per session (in a few seconds),
    with the loop watched while it loads."""
    folder = tmp_path_factory.mktemp("big-corpus")
    ids, vocabulary = write_big_corpus(folder / "big.toml", random.Random(100_000))
    settings = load_settings({}, db_path=folder / "big.db", corpus_path=folder / "big.toml")

    async def load() -> list[Slow]:
        with watching_slow_callbacks(asyncio.get_running_loop()) as slow:
            async with open_core(settings) as core:
                assert core.quotes.count() == len(ids)
        return slow

    started = time.monotonic()
    slow = asyncio.run(load())
    return BigCorpus(settings, ids, vocabulary, time.monotonic() - started, slow)


@asynccontextmanager
async def big_service(big_corpus: BigCorpus) -> AsyncIterator[Core]:
    async with open_core(big_corpus.settings) as core:
        yield core


def typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: two neighbouring letters swapped, or one dropped."""
    if len(word) < 4:
        return word + "x"
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i + 1 :]


Request = tuple[str, Callable[[], Awaitable[object]]]  # (what, how)


def burst(big: BigCorpus, core: Core, n: int = 200) -> list[Request]:
    """`n` mixed requests: themes, searches, typos, ids, autocomplete, Another, hostile text."""
    rng = random.Random(7)
    common = [w for w in big.vocabulary[:300] if w not in STOPWORDS]
    rare = big.vocabulary[-5000:]
    service = core.quotes
    themes = [a for i in service.themes() for a in (i.theme.slug, *i.theme.aliases)]
    member = RequestContext(platform="slack", channel="C1", user="U1")

    def ask(text: str) -> Request:
        return f"/lambert {text}", lambda: answer(core, text, member)

    def complete(text: str) -> Request:
        return f"autocomplete {text}", lambda: service.autocomplete(text)

    def next_after(text: str) -> Request:
        after = rng.choice(big.ids)
        return f"another {text}", lambda: another(core, text, after=after)

    # (how often, what): id typos are rare in chat and the costliest request (a scan of every id).
    kinds: list[tuple[float, Callable[[], Request]]] = [
        (1, lambda: ask("")),
        (1, lambda: ask(rng.choice(["help", "themes", "daily", "daily on 09:00 UTC"]))),
        (2, lambda: ask(rng.choice(themes))),
        (2, lambda: ask(" ".join(rng.sample(common, 2)))),
        (1, lambda: ask("search " + " ".join(rng.sample(common, rng.randint(1, 3))))),
        (1, lambda: ask(" ".join(typo(w, rng) for w in rng.sample(rare, 2)))),
        (1, lambda: ask("search " + typo(rng.choice(common), rng))),
        (1, lambda: ask("id " + rng.choice(big.ids))),
        (0.3, lambda: ask("id " + typo(rng.choice(big.ids), rng))),
        (1, lambda: ask(rng.choice(HOSTILE)[:100])),
        (1, lambda: ask(rng.choice(["xyzzy plugh", "🤖🔥", "qqqqqqqqqq", "c++ AND NEAR("]))),
        (2, lambda: complete(rng.choice(common)[: rng.randint(1, 4)])),
        (1, lambda: complete(typo(rng.choice(rare), rng))),
        (1, lambda: next_after(rng.choice(common))),
        (1, lambda: next_after(rng.choice(themes))),
    ]
    weights = [weight for weight, _ in kinds]
    return [rng.choices(kinds, weights)[0][1]() for _ in range(n)]


def test_the_100k_corpus_loads_without_blocking_the_loop(big_corpus: BigCorpus) -> None:
    slow = big_corpus.slow_during_load
    assert [s for s in slow if s.cpu >= LOAD_STEP_CPU] == [], "\n".join(map(str, slow))
    assert big_corpus.load_seconds < 60


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector off the test harness's own heap (the 100k ids and words
    above, every earlier test's objects): its full collections alone took 50-130 ms here, and
    would be blamed on whichever request ran then. `lambert serve` freezes its start-up heap
    the same way (bot/serving/serve.py)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def test_a_burst_of_commands_never_holds_the_loop_100_ms(big_corpus: BigCorpus) -> None:
    async with big_service(big_corpus) as service:
        requests = burst(big_corpus, service)
        with frozen_heap(), watching_slow_callbacks(asyncio.get_running_loop()) as slow:
            started = time.monotonic()
            tasks = [asyncio.create_task(run(), name=what) for what, run in requests]
            replies = await asyncio.gather(*tasks)
            took = time.monotonic() - started
    blocking = [s for s in slow if s.own_work]
    assert blocking == [], f"in {took:.1f} s:\n" + "\n".join(map(str, slow))
    assert all(reply is not None for reply in replies)
    assert sum(isinstance(r, QuoteReply) for r in replies) > len(replies) / 4
