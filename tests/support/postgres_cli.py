"""The CLI against the test PostgreSQL server: a password to hide, rows to read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import asyncpg

from tests.support.postgres import run_in_thread

PASSWORD = "CANARY-pg-password-do-not-print"  # the test server trusts loopback: any will do


def with_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"postgres:{PASSWORD}@{parts.hostname}:{parts.port}").geturl()


def rows(url: str, sql: str) -> list[Any]:
    async def fetch() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return run_in_thread(fetch())
