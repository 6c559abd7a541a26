"""Which zone database `zoneinfo` reads: its version, so due instants follow a new one."""

from __future__ import annotations

import importlib
import zoneinfo
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def version() -> str:
    """The IANA version of the zone data in use (e.g. "2025b"): the system's first, as zoneinfo
    reads its TZPATH before the tzdata package."""
    for folder in map(Path, zoneinfo.TZPATH):
        if not (folder / "UTC").is_file():
            continue
        for name in ("tzdata.zi", "+VERSION"):
            try:
                first = (folder / name).read_text(encoding="utf-8").splitlines()[0]
            except (OSError, IndexError, UnicodeDecodeError):
                continue
            return first.removeprefix("# version").strip()
        return f"unknown ({folder})"
    try:
        package = importlib.import_module("tzdata")  # zoneinfo's fallback
    except ImportError:
        return "unknown"
    return f"tzdata {getattr(package, 'IANA_VERSION', 'unknown')}"
