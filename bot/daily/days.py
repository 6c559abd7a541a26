"""The record of each (platform, channel, local date): its status, and the claim that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

DayKey = tuple[str, str, date]  # (platform, channel, local date): at most one post each


class PostStatus(StrEnum):
    CLAIMED = "claimed"  # held by a process, not yet sent to the platform
    SENDING = "sending"  # the platform is being asked: if the process dies now, who knows
    RETRYING = "retrying"  # the platform has not taken it (yet): another attempt is safe
    POSTED = "posted"
    FAILED = "failed"
    MISSED = "missed"  # too late to post when the scheduler got to it
    UNKNOWN = "unknown"  # it may or may not have posted (a process stopped, no answer came)


@dataclass(frozen=True, slots=True)
class _Day:
    platform: str
    channel: str
    local_date: date

    @property
    def key(self) -> DayKey:
        return (self.platform, self.channel, self.local_date)


@dataclass(frozen=True, slots=True)
class DayRecord(_Day):
    status: PostStatus
    quote_id: str | None
    message_id: str | None
    reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    claimed_at: datetime
    worker: str | None = None  # the lease of the scheduler holding a claimed or sending day
    # Set once an attempt's outcome is unknown: the day may have posted, so it ends `unknown`
    # rather than `failed`, and is re-sent only until this instant, while the platform
    # dedupes a resend (AmbiguousPostError.resend_within, counted from that attempt's start).
    resend_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Claim(_Day):
    """A day this process holds: only it may post, and only it may record the outcome."""

    quote_id: str
    token: str
    attempt: int
    resend_until: datetime | None = None  # the day's, see DayRecord


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt at a day ended, as `DailyService.record` keeps it: POSTED, RETRYING or
    UNKNOWN about `claim`; FAILED about `claim`, or giving up `record` (a `retrying` day);
    MISSED, a day nobody holds. A failure of a day that may have posted is unknown."""

    status: PostStatus
    day: DayKey
    at: datetime
    claim: Claim | None = None
    reason: str = ""
    record: DayRecord | None = None
    message_id: str = ""  # POSTED: the platform's
    due: datetime | None = None  # POSTED: when it was due, for the lag metric
    retry_at: datetime | None = None  # RETRYING: when it is tried again
    resend_until: datetime | None = None  # RETRYING: until when the platform dedupes a resend
    disable: bool = False  # FAILED for good: the schedule goes off too
    error: Exception | None = None  # an unexpected error behind it, logged with its trace

    @property
    def held(self) -> Claim | DayRecord | None:
        return self.claim or self.record

    @property
    def quote_id(self) -> str | None:
        return self.held.quote_id if self.held else None

    @property
    def unknown(self) -> bool:
        """It may have posted: never sent again, reported as unknown, not failed."""
        if self.status is PostStatus.FAILED and self.held:
            return self.held.resend_until is not None
        return self.status is PostStatus.UNKNOWN
