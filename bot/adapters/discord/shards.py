"""Discord shards: the sharded client `serve` runs, and what a refused shard lease says."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket, ReconnectWebSocket
from discord.shard import Shard

from bot.config import Settings
from bot.coordination.lease import ShardHolder

# discord.py keeps each shard and its event queue in name-mangled attributes of
# AutoShardedClient (checked against 2.7.1); only ShardedClient touches them.
_SHARDS, _QUEUE = "_AutoShardedClient__shards", "_AutoShardedClient__queue"
IDENTIFY_WINDOW = 5.0  # seconds: each bucket's IDENTIFY rate limit

log = logging.getLogger(__name__)


class ResumingShard(Shard):
    """discord.py's Shard, but a reconnect after a failed attempt RESUMEs, as its Client does:
    a new session would spend one of the day's session starts and lose the events between."""

    async def reconnect(self) -> None:
        if self.ws.session_id is None:
            await super().reconnect()
        else:
            await self.reidentify(ReconnectWebSocket(self.id, resume=True))


class ShardedClient(discord.AutoShardedClient):
    """AutoShardedClient for `serve`: one attempt per shard at start (serve's backoff retries, not
    a loop every 5 s), RESUMEing shards, session starts never overdrawn, re-openable."""

    def __init__(
        self, *, shard_count: int | None, shard_ids: Sequence[int] | None, **options: Any
    ) -> None:
        if shard_ids is not None:
            options["shard_ids"] = list(shard_ids)
        super().__init__(shard_count=shard_count, **options)
        self.recommended = shard_count is None  # ask Discord for the count at each start
        # Discord takes one IDENTIFY per 5 s in each of `max_concurrency` buckets (shard id
        # modulo it); discord.py's own hook waits 5 s before every shard but the first.
        self.max_concurrency = 1
        self._identified: dict[int, float] = {}  # bucket -> when a shard last identified

    async def plan(self) -> tuple[int, tuple[int, ...]]:
        """The shard count and this process's shard ids, before connecting (to lease them)."""
        count, _url, limits = await self.http.get_bot_gateway()
        self.max_concurrency = max(1, int(limits.get("max_concurrency", 1)))
        if self.recommended:  # asked anew at each start: it grows with the bot
            self.shard_count = int(count)
        assert self.shard_count is not None  # given, or just asked
        ids = tuple(self.shard_ids) if self.shard_ids else tuple(range(self.shard_count))
        # Logged, and never overdrawn: Discord would close the gateway on each IDENTIFY past
        # the day's session starts, and may reset the bot's token.
        remaining, total = limits["remaining"], limits["total"]
        reset = datetime.now(UTC) + timedelta(milliseconds=limits["reset_after"])
        at = f"{reset:%Y-%m-%d %H:%M} UTC"
        log.info(
            "discord: %d of %d session starts left today; the count resets at %s",
            remaining,
            total,
            at,
        )
        if remaining < len(ids):
            raise ConnectionError(  # serve's backoff tries again
                f"Discord allows {remaining} more session starts until {at}, and this process "
                f"needs {len(ids)} (one per shard); it starts once they reset"
            )
        return self.shard_count, ids

    async def launch_shard(
        self, gateway: yarl.URL, shard_id: int, *, initial: bool = False
    ) -> None:
        connecting = DiscordWebSocket.from_client(
            self, initial=initial, gateway=gateway, shard_id=shard_id
        )
        ws = await asyncio.wait_for(connecting, timeout=self.shard_connect_timeout)
        queue: asyncio.PriorityQueue[Any] = getattr(self, _QUEUE)
        shard = ResumingShard(ws, self, queue.put_nowait)
        getattr(self, _SHARDS)[shard_id] = shard
        shard.launch()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        loop = asyncio.get_running_loop()
        bucket = (shard_id or 0) % self.max_concurrency
        last = self._identified.get(bucket)
        if last is not None:
            await asyncio.sleep(max(0.0, last + IDENTIFY_WINDOW - loop.time()))
        self._identified[bucket] = loop.time()

    def reopen(self) -> None:
        """Ready to connect again after close() and clear(): no stale shards, nor their queue."""
        setattr(self, _QUEUE, asyncio.PriorityQueue())
        getattr(self, _SHARDS).clear()


def refusal(
    settings: Settings, application: str, taken: ShardHolder, count: int, *, lost: bool = False
) -> str:
    """One line: who holds what this process was to run, and what to do about it."""
    if taken.count != count:
        conflict = (
            f"Discord application {application} is served by {taken.holder} with "
            f"DISCORD_SHARD_COUNT={taken.count}, not {count}: give every process the same count"
        )
    else:
        state = "now served" if lost else "already served"
        conflict = (
            f"Discord shard {taken.shard} of {count} (application {application}) is {state} "
            f"by {taken.holder} (its lease expires in {taken.seconds_left:.0f} s unless renewed)"
        )
    if lost:
        conflict = f"this process lost its shard lease (a stall past the lease?): {conflict}"
    if settings.database_url:
        return f"{conflict}; give this process other DISCORD_SHARD_IDS, or stop that one"
    return (
        f"{conflict}; without LAMBERT_DATABASE_URL lambert cannot coordinate Discord processes "
        f"(it only sees those on this SQLite file, {settings.db_path}): run one `lambert serve` "
        "per Discord token, or give every Discord process the same PostgreSQL database in "
        "LAMBERT_DATABASE_URL"
    )
