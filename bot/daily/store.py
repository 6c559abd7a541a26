"""The daily feature's storage port: the one interface a storage backend implements.

`SqliteDailyStore` (bot/daily/sqlite_store.py) is the embedded implementation,
`PostgresDailyStore` the one replicas share. Every write is atomic on its own; a claim is
unique per (platform, channel, local date) across every process sharing the storage. The
worker leases (bot/daily/lease.py) live beside the days, timed by the storage's own clock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import NamedTuple, Protocol

from bot.daily.days import Claim, DayKey, DayRecord
from bot.daily.lease import ShardHolder, ShardLease, WorkerLease
from bot.daily.schedules import Schedule


class Rekeyed(NamedTuple):
    """What key_bare_channels took from the bare channel names: schedules, days (history
    rows) and bags (channels whose shuffle bag had drawn quotes)."""

    schedules: int = 0
    days: int = 0
    bags: int = 0

    @property
    def total(self) -> int:
        return self.schedules + self.days + self.bags


class DailyStore(Protocol):
    async def save_schedule(self, schedule: Schedule) -> None:
        """Create or replace the channel's schedule."""
        ...

    async def turn_off(self, platform: str, channel: str, by: str, at: datetime) -> bool:
        """Disable the channel's schedule, keeping it; False when it has none."""
        ...

    async def turn_off_where(self, platform: str, channel_prefix: str, reason: str) -> int:
        """Disable every enabled schedule whose channel starts with `channel_prefix`, showing
        `reason`; how many were on."""
        ...

    async def key_bare_channels(self, platform: str, prefix: str) -> Rekeyed:
        """Put `prefix` (a workspace's, "T0AAA/") before every channel name of `platform`
        that names no workspace, in schedules, days and bags at once. A row whose new name is
        taken (turned on since under it) gives way: the keyed one stays, the bare one goes.
        0s when run again; ValueError for a prefix that is not a workspace's.

        A day caught `sending` moves like any other, claim token and all: its outcome (posted,
        retrying, unknown, failed), written by that token, lands on the renamed day, and so
        does crash recovery (a gone sender's day becomes `unknown`). What names the channel
        misses: a failure's quote put back in the bare bag and a permanent failure's disable
        of the bare schedule, so the quote stays drawn and the keyed schedule stays on (its
        next post fails again and disables it). A bare day dropped for a keyed one of the same
        date takes its outcome with it; the keyed day's record stands."""
        ...

    async def schedule(self, platform: str, channel: str) -> Schedule | None:
        """The channel's schedule, enabled or not."""
        ...

    async def schedules(self) -> list[Schedule]:
        """Every schedule, enabled or not, by platform and channel."""
        ...

    async def records_since(self, day: date) -> dict[DayKey, DayRecord]:
        """Every day's record from local date `day` on."""
        ...

    async def latest(self) -> dict[tuple[str, str], DayRecord]:
        """Each channel's most recent record."""
        ...

    async def claim(
        self, platform: str, channel: str, day: date, theme: str | None, now: datetime,
        worker: str | None,
    ) -> Claim | None:  # fmt: skip
        """Take the day and draw its quote from the channel's bag; None if the day is held."""
        ...

    async def reclaim(
        self, record: DayRecord, theme: str | None, now: datetime, worker: str | None
    ) -> Claim | None:
        """Take a `retrying` day back for another attempt; None if another process did."""
        ...

    async def record_missed(self, platform: str, channel: str, day: date, now: datetime) -> bool:
        """Mark the day missed unless it is held; True if this call marked it."""
        ...

    async def start_sending(self, claim: Claim) -> bool:
        """Mark the claim as being sent; False if it was taken back meanwhile."""
        ...

    async def record_posted(self, claim: Claim, message_id: str, now: datetime) -> None:
        """The platform took the post."""
        ...

    async def record_retry(
        self,
        claim: Claim,
        reason: str,
        retry_at: datetime,
        now: datetime,
        *,
        resend_until: datetime | None = None,
    ) -> None:
        """Try again at `retry_at`: nothing reached the platform, or it may have and the
        platform dedupes a resend until `resend_until` (the day keeps the earliest one)."""
        ...

    async def record_unknown(self, claim: Claim, reason: str, now: datetime) -> None:
        """The platform may or may not have the post: never send it again (quote stays drawn)."""
        ...

    async def record_failed(
        self, claim: Claim, reason: str, now: datetime, *, disable: bool
    ) -> None:
        """The day failed; its quote goes back in the bag; `disable` stops the schedule too.

        A day with `resend_until` may have posted: it becomes `unknown` instead, and its
        quote stays drawn."""
        ...

    async def give_up(self, record: DayRecord, reason: str, now: datetime) -> bool:
        """Turn a `retrying` day into `failed` (`unknown` if it may have posted, see
        record_failed); False if it was not retrying."""
        ...

    async def recover_claims(
        self, now: datetime, worker: str | None = None, tracked: Collection[str] = ()
    ) -> tuple[list[DayRecord], list[DayRecord]]:
        """Settle the held days of schedulers that are gone (no live lease), and those of
        `worker` (the caller's own lease) whose claim token is not in `tracked` (a claim it
        lost track of, e.g. a write whose answer never came): (due again, now unknown)."""
        ...

    async def hold_lease(self, token: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew the lease `token` to expire `ttl` from now by the storage's clock;
        True if it was live until now, False if it was taken anew."""
        ...

    async def drop_lease(self, token: str) -> None:
        """End the lease: the days it still holds are anyone's to take back."""
        ...

    def worker_lease(self) -> WorkerLease:
        """A new lease (not yet taken) on this storage, for a scheduler to hold while its
        claims may be under way."""
        ...

    async def hold_shards(
        self,
        token: str,
        holder: str,
        application: str,
        shards: tuple[int, ...],
        count: int,
        ttl: timedelta,
    ) -> ShardHolder | None:
        """Take or renew the Discord shard leases of `token` (bot/daily/lease.py, ShardLease);
        None when taken, else the live lease of another token in the way."""
        ...

    async def drop_shards(self, token: str) -> None:
        """End every shard lease of `token`."""
        ...

    def shard_lease(self) -> ShardLease:
        """A new shard lease (not yet taken) on this storage."""
        ...
