"""What one scheduler pass did, in the JSON shape `lambert daily tick --json` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.daily.days import Outcome, PostStatus


def utc_text(instant: datetime) -> str:
    """An instant as ISO 8601 UTC with a Z, the form every JSON output uses."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class TickReport:
    """Days posted, missed, failed and of unknown outcome in one pass, each item naming its
    channel and day. `unknown`: a post may have gone out (its answer was lost) and will never
    be sent again; it is not a failure, and is not reported as one."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        """An outcome in its list: a retry is a failure with its `retry_at_utc`, a day that
        may have posted is unknown, never failed."""
        platform, channel, day = outcome.day
        item: dict[str, Any] = dict(platform=platform, channel=channel, local_date=day.isoformat())
        if outcome.status is PostStatus.MISSED:
            self.missed.append(item)
            return
        item["quote_id"] = outcome.quote_id
        if outcome.status is PostStatus.POSTED:
            self.posted.append(item)
            return
        reason = outcome.reason
        if outcome.status is PostStatus.UNKNOWN:
            reason = f"outcome unknown: {reason}"
        retry_at = outcome.retry_at
        (self.unknown if outcome.unknown else self.failed).append(
            item
            | {
                "reason": reason,
                "disabled": outcome.disable,
                "retry_at_utc": utc_text(retry_at) if retry_at else None,
            }
        )

    def as_json(self) -> dict[str, Any]:
        def ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return sorted(items, key=lambda i: (i["platform"], i["channel"], i["local_date"]))

        return {
            "posted": ordered(self.posted),
            "missed": ordered(self.missed),
            "failed": ordered(self.failed),
            "unknown": ordered(self.unknown),
        }
