"""Handlers still at work, tracked so a platform can close without cutting one off mid-reply."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class InFlight:
    """The set of tasks inside `track()`; `drain()` waits for them, up to a grace period."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    @contextmanager
    def track(self) -> Iterator[None]:
        task = asyncio.current_task()
        assert task is not None  # always inside a task: adapters call it from their handlers
        self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    def start(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """`work` in a task tracked (and strongly held) from now until it ends."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, grace: float) -> None:
        """Wait for every tracked task but the caller's, at most `grace` seconds."""
        pending = {t for t in self._tasks if t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=grace)
