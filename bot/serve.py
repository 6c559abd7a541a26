"""`lambert serve`: run every configured platform and the daily scheduler until stopped."""

from __future__ import annotations

from bot.config import Settings


async def serve(settings: Settings) -> int:
    """Placeholder until the platform adapters land (issues 4 and 5)."""
    raise NotImplementedError(f"serving {', '.join(settings.platforms)} is not built yet")
