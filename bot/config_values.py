"""Setting values: Secret, ConfigError, and readers from a variable's text to a value or a fix."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting that cannot be used; the message names the variable and the fix."""


class Secret:
    """A token that never shows itself in a repr, a log line or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__


NO_SECRET = Secret("")


# How a variable's text (stripped, never empty) becomes a setting: (variable, text, default).
Reader = Callable[[str, str, Any], Any]


def _plain(kind: Callable[[str], Any]) -> Reader:
    return lambda name, raw, default: kind(raw)


text, secret, path = _plain(str), _plain(Secret), _plain(Path)


def number(low: float, high: float) -> Reader:
    def read(name: str, raw: str, default: Any) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(
                f"{name}={raw!r} is not a number; use e.g. {name}={default:g}"
            ) from None
        if not low <= value <= high:
            raise ConfigError(f"{name}={raw} is out of range; use a value from {low:g} to {high:g}")
        return value

    return read


def whole(raw: str) -> int | None:
    """Digits only: int() would also take "+80", "3_000" or " 8 0"; float() "3000.5"."""
    return int(raw) if raw.isascii() and raw.isdigit() else None


def port(name: str, raw: str, default: Any) -> int:
    value = whole(raw)
    if value is None or not 1 <= value <= 65535:
        raise ConfigError(
            f"{name}={raw!r} is not a port; use a whole number from 1 to 65535, e.g. "
            f"{name}={default or 8000}"  # LAMBERT_HTTP_PORT is off (None) by default
        )
    return value


def host(name: str, raw: str, default: Any) -> str:
    import ipaddress  # only for a host given: every command reads the settings

    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if not raw.isascii() or not all(c.isalnum() or c in "-." for c in raw):  # a host name
            raise ConfigError(
                f"{name}={raw!r} is not an address to listen on; use an IP address or host "
                f"name, e.g. {name}=0.0.0.0 (every interface) or {name}=127.0.0.1 (this "
                "machine only)"
            ) from None
    return raw


def one_of(words: dict[str, Any] | tuple[str, ...], fold: Callable[[str], str], fix: str) -> Reader:
    values = words if isinstance(words, dict) else {w: w for w in words}

    def read(name: str, raw: str, default: Any) -> Any:
        if fold(raw) not in values:
            raise ConfigError(f"{name}={fold(raw)!r} is not {fix.format(name=name)}")
        return values[fold(raw)]

    return read


on_off = one_of({"on": True, "off": False}, str.casefold, "on or off; use {name}=on or {name}=off")
level = one_of(LOG_LEVELS, str.upper, f"a level; use one of {', '.join(LOG_LEVELS)}")
log_format = one_of(("text", "json"), str.lower, "a format; use {name}=text or json")


def admins(name: str, raw: str, default: Any) -> frozenset[str]:
    return frozenset(u.strip() for u in raw.split(",") if u.strip())


def public_url(name: str, raw: str, default: Any) -> str:
    try:
        parts = urlsplit(raw)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018  (read for its ValueError on a port that is no port)
    except ValueError:  # e.g. an unbalanced [ in the host, or a port past 65535
        valid = False
    if not valid or raw.endswith("/") or parts.query or parts.fragment:
        raise ConfigError(
            f"LAMBERT_PUBLIC_URL={raw!r} is not the site's public address; use http:// or "
            "https://, a host, and no trailing slash, e.g. "
            "LAMBERT_PUBLIC_URL=https://quotes.example.org"
        )
    return raw


DATABASE_URL = "LAMBERT_DATABASE_URL (or --database-url)"
# What ends the password early when written as is: each with the way to write it.
URL_ESCAPES = {"#": "%23", "?": "%3F", "/": "%2F", "@": "%40"}


def database_url(name: str, raw: str, default: Any) -> Secret:
    """The URL as a Secret, or its mistake in one line that never echoes the password."""
    scheme, _, rest = raw.partition("://")
    if scheme not in ("postgresql", "postgres") or not _:
        raise ConfigError(
            f"{DATABASE_URL} is not a PostgreSQL URL; use "
            "postgresql://user:password@host:5432/database, or leave it empty for SQLite"
        )
    # The user part ends at the last @: read so, a password's own #, ?, / or @ is seen as such
    # instead of cutting the URL short (urlsplit would then read part of it as the port).
    password = rest.rpartition("@")[0].partition(":")[2]
    unencoded = [c for c in URL_ESCAPES if c in password]
    if unencoded:
        fixes = ", ".join(f"{c} must be written {URL_ESCAPES[c]}" for c in unencoded)
        raise ConfigError(
            f"{DATABASE_URL}: the password holds {' and '.join(unencoded)} not percent-encoded; "
            f"{fixes} (Python: urllib.parse.quote(password, safe=''))"
        )
    try:
        port = urlsplit(raw).port
    except ValueError:  # a port out of range or not a number, or an unbalanced [ in the host
        host_port = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
        if host_port.startswith("[") and "]" not in host_port:
            raise ConfigError(
                f"{DATABASE_URL}: an IPv6 host needs its closing ], e.g. "
                "postgresql://user:password@[::1]:5432/database"
            ) from None
        raise ConfigError(
            f"{DATABASE_URL}: the port {host_port.rpartition(':')[2][:12]!r} is not a port; "
            "use a whole number from 1 to 65535, e.g. postgresql://user:password@host:5432/db"
        ) from None
    if port == 0:
        raise ConfigError(
            f"{DATABASE_URL}: port 0 is not a port; use a whole number from 1 to 65535, e.g. "
            "postgresql://user:password@host:5432/database"
        )
    return Secret(raw)


MAX_SHARDS = 100_000  # far past any bot's count (one shard per 1,000-2,500 servers)


def shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    """DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS ("0,1", "0-3", "0-3,8"): (count, ids)."""
    raw_count = env.get("DISCORD_SHARD_COUNT", "").strip()
    raw_ids = env.get("DISCORD_SHARD_IDS", "").strip()
    if not raw_count:
        if raw_ids:
            raise ConfigError(
                f"DISCORD_SHARD_IDS={raw_ids!r} needs DISCORD_SHARD_COUNT, the shards in all; "
                "e.g. DISCORD_SHARD_COUNT=4 DISCORD_SHARD_IDS=0,1"
            )
        return None, None
    count = whole(raw_count)
    if count is None or not 1 <= count <= MAX_SHARDS:
        raise ConfigError(
            f"DISCORD_SHARD_COUNT={raw_count!r} is not a shard count; use a whole number from "
            f"1 to {MAX_SHARDS}, the same in every process, e.g. DISCORD_SHARD_COUNT=4"
        )
    if not raw_ids:
        return count, tuple(range(count))
    ids: list[int] = []
    for part in raw_ids.split(","):
        low, dash, high = (p.strip() for p in part.strip().partition("-"))
        first, last = whole(low), whole(high) if dash else whole(low)
        if first is None or last is None or first > last:
            raise ConfigError(
                f"DISCORD_SHARD_IDS={raw_ids!r}: {part.strip()!r} is not a shard id or range; "
                "use ids and ranges from 0, e.g. DISCORD_SHARD_IDS=0,1 or DISCORD_SHARD_IDS=0-3"
            )
        if last >= count:
            raise ConfigError(
                f"DISCORD_SHARD_IDS={raw_ids!r}: shard {last} is not below "
                f"DISCORD_SHARD_COUNT={count}; ids run from 0 to {count - 1}"
            )
        ids.extend(range(first, last + 1))
    ordered = sorted(ids)
    twice = next((a for a, b in itertools.pairwise(ordered) if a == b), None)
    if twice is not None:
        raise ConfigError(
            f"DISCORD_SHARD_IDS={raw_ids!r} names shard {twice} twice; name each once"
        )
    return count, tuple(ordered)
