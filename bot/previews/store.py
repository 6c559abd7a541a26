"""The previews' storage port: one claim per preview, taken before anything is posted."""

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


class MemoryPreviewStore:
    """A PreviewStore in this process's memory: for a Core built without storage (tests)."""

    def __init__(self) -> None:
        self.claims: dict[str, str | None] = {}  # preview -> message id once posted

    async def claim(self, preview_id: str, platform: str, channel: str, now: datetime) -> bool:
        if preview_id in self.claims:
            return False
        self.claims[preview_id] = None
        return True

    async def record_posted(self, preview_id: str, message_id: str | None) -> None:
        self.claims[preview_id] = message_id

    async def release(self, preview_id: str) -> None:
        self.claims.pop(preview_id, None)
