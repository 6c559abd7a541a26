"""Every daily-state store call timed into the metrics port, around any DailyStore backend."""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any, cast

from bot.daily.store import DailyStore
from bot.metrics import metrics


class TimedDailyStore:
    """Hands every attribute to `inner`; each coroutine method's call reports how long it
    took, labelled with `backend` and the method's name. Generic on purpose: one place
    instead of every SQL statement, and a method the port gains is timed without an edit
    here."""

    def __init__(self, inner: DailyStore, backend: str) -> None:
        self.inner = inner
        self.backend = backend

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if not inspect.iscoroutinefunction(found):
            return found
        backend = self.backend

        @functools.wraps(found)
        async def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await found(*args, **kwargs)
            finally:
                metrics().store_call(backend, name, time.perf_counter() - started)

        setattr(self, name, timed_call)  # built once per method; __getattr__ is not asked again
        return timed_call


def timed(store: DailyStore, backend: str) -> DailyStore:
    """`store` with its calls timed; a store already timed is returned as it is."""
    if isinstance(store, TimedDailyStore):
        return cast(DailyStore, store)
    return cast(DailyStore, TimedDailyStore(store, backend))
