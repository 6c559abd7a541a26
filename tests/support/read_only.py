"""Files and folders made read-only for real, even for root."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _writes_blocked(path: Path) -> bool:
    try:
        if path.is_dir():
            (path / ".probe").touch()
            (path / ".probe").unlink()
        else:
            path.open("r+b").close()
    except PermissionError:
        return True
    return False


@pytest.fixture
def make_read_only() -> Iterator[object]:
    """Make a file or folder read-only for real, even for root (who ignores modes): chmod,
    else `chattr +i`. Skips only when neither can stop this user writing."""
    immutable: list[Path] = []

    def apply(path: Path) -> None:
        path.chmod(0o555 if path.is_dir() else 0o444)
        if _writes_blocked(path):
            return
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode == 0:
            immutable.append(path)
        if not _writes_blocked(path):
            pytest.skip("running as root where neither chmod nor chattr +i stops writes")

    yield apply
    for path in immutable:
        subprocess.run(["chattr", "-i", str(path)], check=True)
