"""OAuth states needing no row (a nonce and expiry, signed): `GET /slack/install` writes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

log = logging.getLogger(__name__)

# Nonces of used states, kept until they expire so a replay to this process is refused; past
# this many the oldest go first (bounded memory). A replay must also carry the browser's state
# cookie (bolt checks it), and Slack's code in it is good once: this is a third lock.
REMEMBERED = 10_000


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class SignedStates(AsyncOAuthStateStore):
    """`NONCE.EXPIRY.MAC`: good once until EXPIRY, on any replica with the same client secret."""

    def __init__(
        self, secret: str, seconds: float, *, clock: Callable[[], float] = time.time
    ) -> None:
        # A key of its own: the state's MAC never helps anyone learn the secret's other uses.
        self.key = hmac.new(secret.encode(), b"lambert oauth state", hashlib.sha256).digest()
        self.seconds = seconds
        self.clock = clock
        self.used: OrderedDict[str, float] = OrderedDict()

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        body = f"{secrets.token_urlsafe(16)}.{int(self.clock() + self.seconds)}"
        return f"{body}.{_mac(self.key, body)}"

    async def async_consume(self, state: str) -> bool:
        nonce, _, rest = state.partition(".")
        expiry, _, mac = rest.partition(".")
        body = f"{nonce}.{expiry}"
        expected = _mac(self.key, body).encode()
        if not hmac.compare_digest(expected, mac.encode("utf-8", "replace")):
            return False  # forged, truncated, or signed with another secret
        now = self.clock()
        if not expiry.isdigit() or int(expiry) <= now:
            return False
        while self.used and next(iter(self.used.values())) <= now:
            self.used.popitem(last=False)  # expired: refused by its expiry from now on
        if nonce in self.used:
            return False  # a replay
        self.used[nonce] = int(expiry)
        if len(self.used) > REMEMBERED:
            self.used.popitem(last=False)
        return True
