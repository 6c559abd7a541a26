"""What the scheduler did: the log line of each outcome, and a pass's `daily tick --json`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from bot.daily.days import DayRecord, Outcome, PostStatus

log = logging.getLogger(__name__)

KINDS = ("posted", "missed", "failed", "unknown")  # the report's lists, in its JSON's order


def utc_text(instant: datetime) -> str:
    """An instant as ISO 8601 UTC with a Z, the form every JSON output uses."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class TickReport:
    """Days posted, missed, failed and of unknown outcome in one pass. `unknown`: a post may
    have gone out (its answer was lost) and is never sent again; it is not a failure."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        """An outcome in its list: a retry is a failure with its `retry_at_utc`."""
        platform, channel, day = outcome.day
        item: dict[str, Any] = dict(platform=platform, channel=channel, local_date=day.isoformat())
        if outcome.status is PostStatus.MISSED:
            self.missed.append(item)
        elif outcome.status is PostStatus.POSTED:
            self.posted.append(item | {"quote_id": outcome.quote_id})
        else:
            prefix = "outcome unknown: " if outcome.status is PostStatus.UNKNOWN else ""
            at = outcome.retry_at
            item |= {"quote_id": outcome.quote_id, "reason": prefix + outcome.reason}
            item |= {"disabled": outcome.disable, "retry_at_utc": utc_text(at) if at else None}
            (self.unknown if outcome.unknown else self.failed).append(item)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        by_day = itemgetter("platform", "channel", "local_date")
        return {kind: sorted(getattr(self, kind), key=by_day) for kind in KINDS}


def log_outcome(o: Outcome) -> None:
    """The outcome's log line (at WARNING but for a post)."""
    platform, channel, day = o.day
    where = f"daily post for {platform}/{channel} on {day}"
    if o.status is PostStatus.POSTED:
        log.info("%s: %s", where, o.quote_id)
    elif o.status is PostStatus.MISSED:
        log.warning("%s missed: too late to post", where)
    elif o.status is PostStatus.RETRYING:
        again = "resending with the same key" if o.resend_until else "retry"
        when = utc_text(o.retry_at) if o.retry_at else "?"
        log.warning("%s failed, %s at %s: %s", where, again, when, o.reason, exc_info=o.error)
    elif o.unknown:
        log.warning(
            "%s (quote %s): outcome unknown (%s). It will not be posted again; check the channel.",
            where,
            o.quote_id,
            o.reason,
        )
    else:
        off = " for good, schedule off" if o.disable else ""
        log.warning("%s failed%s: %s", where, off, o.reason)


def log_recovered(retried: Iterable[DayRecord], unknown: Iterable[DayRecord]) -> None:
    """The log lines of held days taken back: `retried` never sent, `unknown` mid-send."""
    for record in retried:
        log.info("daily post for %s/%s on %s: claimed, never sent: due again", *record.key)
    for record in unknown:
        log.warning(
            "daily post for %s/%s on %s (quote %s) may or may not have gone out: a process "
            "stopped while posting it. It will not be posted again; check the channel.",
            *record.key,
            record.quote_id,
        )
