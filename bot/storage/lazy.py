"""The shared state opened on first use (`lambert ask` never imports SQLAlchemy), and stores
reached through forwarders timing each call into the metrics port by backend and method."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Generic, TypeVar

from bot.metrics import metrics

T = TypeVar("T")


class OnFirstUse(Generic[T]):
    """`opener` run once, on the first `get()`; `aclose()` closes what it entered in the stack."""

    def __init__(self, opener: Callable[[AsyncExitStack], Awaitable[T]]) -> None:
        self._opener = opener
        self._stack = AsyncExitStack()
        self._lock = asyncio.Lock()
        self._value: T | None = None

    async def get(self) -> T:
        if self._value is None:
            async with self._lock:
                if self._value is None:
                    self._value = await self._opener(self._stack)
        return self._value

    async def aclose(self) -> None:
        self._value = None
        await self._stack.aclose()


class Forwarder:
    """Each coroutine method call, timed under `backend`, to what `pick` finds in the state:
    a method a store gains is forwarded and timed with no edit here."""

    def __init__(self, state: OnFirstUse[Any], pick: Callable[[Any], Any], backend: str) -> None:
        self._state = state
        self._pick = pick
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        state, pick, backend = self._state, self._pick, self._backend

        async def call(*args: Any, **kwargs: Any) -> Any:
            target = pick(await state.get())
            started = time.perf_counter()
            try:
                return await getattr(target, name)(*args, **kwargs)
            finally:
                metrics().store_call(backend, name, time.perf_counter() - started)

        call.__name__ = name
        setattr(self, name, call)  # built once per method; __getattr__ is not asked again
        return call
