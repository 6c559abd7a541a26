"""Tokens at rest: sealed with Fernet when LAMBERT_SECRET_KEY is set, kept in clear otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import ConfigError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

VARIABLE = "LAMBERT_SECRET_KEY"
# A sealed value starts with this, so a row written before the key was set (in clear) and one
# written after it can share a table until `lambert db rotate-key` seals the rest.
SEALED = "fernet:"
NEW_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
MISSING = (
    f"the installs' tokens in the database are encrypted, and {VARIABLE} is not set: set it to "
    "the key they were encrypted with"
)
WRONG = (
    f"{VARIABLE} does not decrypt the installs' tokens in the database: set it to the key they "
    "were encrypted with (while rotating: NEW,OLD, then run `lambert db rotate-key`)"
)


class TokenSeal:
    """Fernet over LAMBERT_SECRET_KEY's comma-separated keys (MultiFernet): the first seals,
    every one opens, so a key is rotated by putting the new one first and running
    `lambert db rotate-key`. With no key, `seal` leaves a token in clear."""

    def __init__(self, keys: str) -> None:
        listed = [k.strip() for k in keys.split(",") if k.strip()]
        self._keys = _multi(listed) if listed else None

    @property
    def on(self) -> bool:
        return self._keys is not None

    def seal(self, token: str | None) -> str | None:
        """`token` as stored: sealed with the first key, or as it is without a key."""
        if token is None or self._keys is None:
            return token
        return SEALED + self._keys.encrypt(token.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The token `stored` holds; ConfigError (no token in it) for a missing or wrong key."""
        if stored is None or not stored.startswith(SEALED):
            return stored
        if self._keys is None:
            raise ConfigError(MISSING)
        from cryptography.fernet import InvalidToken

        try:
            return self._keys.decrypt(stored.removeprefix(SEALED).encode()).decode()
        except InvalidToken:
            raise ConfigError(WRONG) from None


def _multi(keys: list[str]) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet  # only when a key is set

    fernets = []
    for place, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):  # the key itself is never shown
            raise ConfigError(
                f"{VARIABLE}: key {place} is not a Fernet key (44 characters of URL-safe "
                f"base64); make one with: {NEW_KEY}"
            ) from None
    return MultiFernet(fernets)
