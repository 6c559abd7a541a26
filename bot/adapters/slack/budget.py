"""How long a slash command's answer may take and still travel in its ack (Slack waits 3 s)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

# Seconds. Well inside Slack's 3: the ack still has to cross the network, and a slow
# users.info (the admin check) past it falls back to the response_url instead of failing.
ANSWER_BUDGET = 1.5


@dataclass(frozen=True)
class Budget:
    """`met_by(work)`: whether `work` finished within `seconds` (it goes on either way). With
    `over` (tests: TESTING.md, "Time") the budget ends when that event is set instead."""

    seconds: float = ANSWER_BUDGET
    over: asyncio.Event | None = None

    async def met_by(self, work: asyncio.Future[Any]) -> bool:
        if self.over is None:
            done, _pending = await asyncio.wait((work,), timeout=self.seconds)
            return bool(done)
        ending = asyncio.ensure_future(self.over.wait())
        try:
            await asyncio.wait((work, ending), return_when=asyncio.FIRST_COMPLETED)
        finally:
            ending.cancel()
        return work.done()
