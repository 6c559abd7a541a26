"""The error a test gets when it reaches for a non-loopback address."""

from __future__ import annotations


class NetworkUseError(AssertionError):
    """A test tried to reach a non-loopback address."""
