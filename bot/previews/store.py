"""The previews' port: one claim per preview, taken before anything is posted."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class PreviewStore(Protocol):
    """A preview is named by its platform (`discord:<interaction id>`, `slack:<team>:...`);
    a claim is unique per name across every process sharing the storage."""

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        """Take the preview for posting; False if it was taken before (posting or posted)."""

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        """The platform took the post (`message_id` when it said which)."""

    async def release(self, preview_id: str) -> None:
        """The post did not go out: the preview may be posted again."""

    async def outcome(self, preview_id: str) -> str | None:
        """What became of the claim: 'posted', 'posting' (under way, or its answer was lost,
        so it may be in the channel: nobody can say), or None when nothing holds it."""


class MemoryPreviewStore:
    """A PreviewStore in this process's memory: for a Core built without storage (tests)."""

    def __init__(self) -> None:
        self.claims: dict[str, str] = {}  # preview -> "posting" or "posted"

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        taken = preview_id in self.claims
        self.claims.setdefault(preview_id, "posting")
        return not taken

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        self.claims[preview_id] = "posted"

    async def release(self, preview_id: str) -> None:
        if self.claims.get(preview_id) == "posting":
            del self.claims[preview_id]

    async def outcome(self, preview_id: str) -> str | None:
        return self.claims.get(preview_id)
