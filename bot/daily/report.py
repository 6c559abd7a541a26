"""What one scheduler pass did, in the JSON shape `lambert daily tick --json` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any


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

    def add_posted(self, platform: str, channel: str, day: date, quote_id: str) -> None:
        self.posted.append({**_day(platform, channel, day), "quote_id": quote_id})

    def add_missed(self, platform: str, channel: str, day: date) -> None:
        self.missed.append(_day(platform, channel, day))

    def add_failed(
        self,
        platform: str,
        channel: str,
        day: date,
        quote_id: str | None,
        reason: str,
        *,
        disabled: bool = False,
        retry_at: datetime | None = None,
        unknown: bool = False,
    ) -> None:
        """`disabled`: the schedule was turned off; `retry_at`: the day is tried again then;
        `unknown`: an earlier attempt may have posted, so the day ends unknown, not failed."""
        (self.unknown if unknown else self.failed).append(
            {
                **_day(platform, channel, day),
                "quote_id": quote_id,
                "reason": reason,
                "disabled": disabled,
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


def _day(platform: str, channel: str, day: date) -> dict[str, Any]:
    return {"platform": platform, "channel": channel, "local_date": day.isoformat()}
