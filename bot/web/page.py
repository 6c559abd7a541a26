"""What a view returns: a status, the bytes, their type, how long they may be cached, and an
ETag; served by app.py and written to files by export.py alike."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

HTML = "text/html; charset=utf-8"
JSON = "application/json"
# A quote's page, card and JSON change only when the corpus does (a restart): an hour, then
# the ETag answers 304. The day's quote and searches: five minutes.
STABLE = "public, max-age=3600"
DAILY = "public, max-age=300"
NO_STORE = "no-store"


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    body: bytes
    content_type: str
    cache: str = STABLE
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        # A strong validator from the bytes themselves: equal bytes, equal tag, on any replica.
        object.__setattr__(self, "etag", f'"{hashlib.sha256(self.body).hexdigest()[:32]}"')


class Problem(Exception):
    """Bad input or an unknown id: a status and one line saying what to do instead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class PageCache:
    """Rendered pages by key, least recently used first out, bounded in bytes (cards are a
    hundred kB each, so a count alone would not bound memory on a big corpus)."""

    def __init__(self, budget: int = 64 * 2**20) -> None:
        self.budget = budget
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._size = 0

    async def get(self, key: Hashable, make: Callable[[], Awaitable[Page]]) -> Page:
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
            return found
        page = await make()
        keep = page.status == 200 and page.cache != NO_STORE and len(page.body) <= self.budget
        if keep and key not in self._pages:  # two misses at once: the first one is kept
            self._pages[key] = page
            self._size += len(page.body)
            while self._size > self.budget:
                _, dropped = self._pages.popitem(last=False)
                self._size -= len(dropped.body)
        return page
