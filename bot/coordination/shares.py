"""Which live worker a piece of work falls to: rendezvous hashing over the workers' tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Collection


def owner(item: str, workers: Collection[str]) -> str | None:
    """The worker `item` falls to (None when there is none). Every process that sees the same
    workers picks the same one, and a worker coming or going moves only its own share."""
    return max(workers, key=lambda worker: _weight(worker, item), default=None)


def _weight(worker: str, item: str) -> bytes:
    # Python's hash() differs between processes (PYTHONHASHSEED): a digest is the same in all.
    return hashlib.blake2b(f"{worker}\0{item}".encode(), digest_size=8).digest()
