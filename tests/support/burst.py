"""A burst of mixed commands over a synthetic corpus, as a busy workspace sends them."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.chat.context import RequestContext
from bot.chat.grammar import another, answer
from bot.quotes.search import STOPWORDS
from bot.runtime import Core
from tests.support.corpus_gen import SyntheticCorpus
from tests.support.hostile import HOSTILE


@dataclass(frozen=True)
class Request:
    """One command: `kind` names the row of KINDS it came from, `what` is what was typed."""

    kind: str
    what: str
    run: Callable[[], Awaitable[object]]


def typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: two neighbouring letters swapped, or one dropped."""
    if len(word) < 4:
        return word + "x"
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i + 1 :]


def mixed_requests(
    core: Core, corpus: SyntheticCorpus, n: int = 200, seed: int = 7
) -> list[Request]:
    """`n` requests: themes, searches, typos, ids, autocomplete, Another, hostile text."""
    rng = random.Random(seed)
    common = [w for w in corpus.vocabulary[:300] if w not in STOPWORDS]
    rare = corpus.vocabulary[-5000:]
    themes = [a for i in core.quotes.themes() for a in (i.theme.slug, *i.theme.aliases)]
    member = RequestContext(platform="slack", channel="C1", user="U1")

    def ask(kind: str, text: str) -> Request:
        return Request(kind, f"/lambert {text}", lambda: answer(core, text, member))

    def complete(kind: str, text: str) -> Request:
        return Request(kind, f"autocomplete {text}", lambda: core.quotes.autocomplete(text))

    def next_after(kind: str, text: str) -> Request:
        after = rng.choice(corpus.ids)
        return Request(kind, f"another {text}", lambda: another(core, text, after=after))

    # (how often, what): id typos are rare in chat and the costliest request (a scan of every id).
    kinds: list[tuple[float, Callable[[], Request]]] = [
        (1, lambda: ask("random", "")),
        (1, lambda: ask("verb", rng.choice(["help", "themes", "daily"]))),
        (2, lambda: ask("theme", rng.choice(themes))),
        (2, lambda: ask("words", " ".join(rng.sample(common, 2)))),
        (1, lambda: ask("search", "search " + " ".join(rng.sample(common, rng.randint(1, 3))))),
        (1, lambda: ask("rare typos", " ".join(typo(w, rng) for w in rng.sample(rare, 2)))),
        (1, lambda: ask("search typo", "search " + typo(rng.choice(common), rng))),
        (1, lambda: ask("id", "id " + rng.choice(corpus.ids))),
        (0.3, lambda: ask("id typo", "id " + typo(rng.choice(corpus.ids), rng))),
        (1, lambda: ask("hostile", rng.choice(HOSTILE)[:100])),
        (1, lambda: ask("no match", rng.choice(["xyzzy plugh", "🤖🔥", "c++ AND NEAR("]))),
        (2, lambda: complete("autocomplete", rng.choice(common)[: rng.randint(1, 4)])),
        (1, lambda: complete("autocomplete typo", typo(rng.choice(rare), rng))),
        (1, lambda: next_after("another", rng.choice(common))),
        (1, lambda: next_after("another theme", rng.choice(themes))),
    ]
    weights = [weight for weight, _ in kinds]
    return [rng.choices(kinds, weights)[0][1]() for _ in range(n)]
