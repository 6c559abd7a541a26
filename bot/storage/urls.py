"""Database URLs in messages and logs, without their password."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit


def redacted(url: str) -> str:  # the password as `***`
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def scrubbed(text: str, url: str) -> str:
    """`text` on one line, with the URL and its password (raw and decoded) blanked."""
    text = " ".join(text.replace(url, redacted(url)).split())
    raw = urlsplit(url).password or ""
    for secret in sorted({raw, unquote(raw)}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
