"""What one scheduler pass did, in the JSON shape `lambert daily tick --json` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from bot.daily.days import Outcome, PostStatus

KINDS = ("posted", "missed", "failed", "unknown")  # the report's lists, in its JSON's order


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
        elif outcome.status is PostStatus.POSTED:
            self.posted.append(item | {"quote_id": outcome.quote_id})
        else:
            unknown = "outcome unknown: " if outcome.status is PostStatus.UNKNOWN else ""
            at = outcome.retry_at
            (self.unknown if outcome.unknown else self.failed).append(
                item
                | {
                    "quote_id": outcome.quote_id,
                    "reason": unknown + outcome.reason,
                    "disabled": outcome.disable,
                    "retry_at_utc": utc_text(at) if at else None,
                }
            )

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        by_day = itemgetter("platform", "channel", "local_date")
        return {kind: sorted(getattr(self, kind), key=by_day) for kind in KINDS}
