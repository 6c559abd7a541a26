"""Reading what lambert answered the fake Discord with: the preview's buttons."""

from __future__ import annotations

from bot.chat.replies import POST_LABEL
from tests.fakes.discord_platform import Callback


def button(preview: Callback, label: str) -> str:
    """The custom id of the button labelled `label` on `preview`."""
    buttons = [b for row in preview.components for b in row["components"]]
    return str(next(b["custom_id"] for b in buttons if b["label"] == label))


def post_button(preview: Callback) -> str:
    return button(preview, POST_LABEL)
