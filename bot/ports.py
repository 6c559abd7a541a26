"""The ports the core depends on, implemented by each platform adapter."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from bot.quotes.models import Quote

# Seconds a daily post may take on any platform, whatever it waits for (a token refresh, a
# rate limit, the send): a platform that accepts and never answers costs a tick this much.
POST_DEADLINE = 30.0


class PostError(Exception):
    """A daily post the platform did not accept. `reason` is safe to show to an admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentPostError(PostError):
    """The channel cannot take posts (gone, archived, bot removed, no permission): stop trying."""


class TransientPostError(PostError):
    """Try again later (rate limit, network). `retry_after` is the platform's hint in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class AmbiguousPostError(PostError):
    """The request may have reached the platform, but no answer says whether it posted (a
    timeout, the connection lost after the request was written, a 5xx from an edge). Never
    sent again as a new message. `resend_within`: how many seconds after the first such
    attempt the platform dedupes a resend of the same (channel, day) (Discord's nonce); None:
    it cannot, and the day is recorded `unknown` at once."""

    def __init__(self, reason: str, resend_within: float | None = None) -> None:
        super().__init__(reason)
        self.resend_within = resend_within


class DailyPoster(Protocol):
    """Sends the daily quote to one channel of one platform."""

    platform: str
    # How many posts this platform takes at once without tripping its rate limits: the
    # scheduler never has more in flight here, and the client library paces within that.
    max_in_flight: int

    async def post_daily(self, channel: str, quote: Quote, day: date) -> str:
        """Post `quote` to `channel` as its post for local date `day`; return the message id.
        (channel, day) names the post: a platform that dedupes a resend (Discord's nonce)
        derives its key from it. Raise PermanentPostError, TransientPostError (nothing was
        stored: safe to send again) or AmbiguousPostError (it may have been stored); any other
        exception counts as transient, so a poster must map every ambiguous failure itself."""


class ChatPlatform(Protocol):
    """A connected chat platform as `lambert serve` runs it (see bot/serving/serve.py)."""

    name: str

    async def start(self) -> None:
        """Connect, and return once slash commands are being answered. One attempt: raise
        ConfigError when the platform rejects a token or a setting (serve stops), anything
        else when it cannot be reached now (serve calls close(), waits, and start() again).
        Cancelled when serve is stopped meanwhile."""

    @property
    def connected(self) -> bool:
        """Whether commands can reach the bot right now (serve's health heartbeat reads it)."""

    async def wait_lost(self) -> None:
        """Return once the connection is gone for good (the library stopped reconnecting):
        serve then calls close() and start() again. Never returns while it reconnects itself."""

    def poster(self) -> DailyPoster:
        """The daily-post port over this platform's live connection."""

    async def close(self) -> None:
        """Stop taking commands, let in-flight ones finish, and disconnect; also after a
        failed or cancelled start(), and more than once."""
