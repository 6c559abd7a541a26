"""The record of each (platform, channel, local date): its status, and the claim that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

DayKey = tuple[str, str, date]
"""(platform, channel, local date): at most one post each."""


class PostStatus(StrEnum):
    CLAIMED = "claimed"  # held by a process, not yet sent to the platform
    SENDING = "sending"  # the platform is being asked: if the process dies now, who knows
    RETRYING = "retrying"  # the platform has not taken it (yet): another attempt is safe
    POSTED = "posted"
    FAILED = "failed"
    MISSED = "missed"  # too late to post when the scheduler got to it
    UNKNOWN = "unknown"  # it may or may not have posted (a process stopped, no answer came)


@dataclass(frozen=True, slots=True)
class DayRecord:
    """The row of one (platform, channel, local date)."""

    platform: str
    channel: str
    local_date: date
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

    @property
    def key(self) -> DayKey:
        return (self.platform, self.channel, self.local_date)


@dataclass(frozen=True, slots=True)
class Claim:
    """A day this process holds: only it may post, and only it may record the outcome."""

    platform: str
    channel: str
    local_date: date
    quote_id: str
    token: str
    attempt: int
    resend_until: datetime | None = None  # the day's, see DayRecord
