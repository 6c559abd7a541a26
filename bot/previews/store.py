"""The previews' port: one claim per preview, taken before anything is posted."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class PreviewStore(Protocol):
    """A preview is named by its platform (`discord:<interaction id>`, `slack:<team>:...`);
    a claim is unique per name across every process sharing the storage."""

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        """Take the preview for posting; False if it was taken before (posting or posted)."""
        ...

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        """The platform took the post (`message_id` when it said which)."""
        ...

    async def release(self, preview_id: str) -> None:
        """The post did not go out: the preview may be posted again."""
        ...

    async def outcome(self, preview_id: str) -> str | None:
        """What became of the claim: 'posted', 'posting' (under way, or its answer was lost,
        so it may be in the channel: nobody can say), or None when nothing holds it."""
        ...


class MemoryPreviewStore:
    """A PreviewStore in this process's memory: for a Core built without storage (tests)."""

    def __init__(self) -> None:
        self.claims: dict[str, str | None] = {}  # preview -> message id once posted
        self.posted: set[str] = set()

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        if preview_id in self.claims:
            return False
        self.claims[preview_id] = None
        return True

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        self.claims[preview_id] = message_id
        self.posted.add(preview_id)

    async def release(self, preview_id: str) -> None:
        if preview_id not in self.posted:
            self.claims.pop(preview_id, None)

    async def outcome(self, preview_id: str) -> str | None:
        if preview_id not in self.claims:
            return None
        return "posted" if preview_id in self.posted else "posting"
