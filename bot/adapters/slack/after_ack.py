"""Work after a Slack ack, in a task close() waits for (bolt's lazy listeners are not tracked)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.adapters.slack.blocks import error_message
from bot.runtime import Core
from bot.serving.inflight import InFlight
from bot.serving.oneline import one_line

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]


class Listener:
    """What the listener classes that SlackHandlers joins (listeners.py) share."""

    core: Core
    admins: frozenset[str]
    in_flight: InFlight

    def after_ack(self, what: str, work: Awaitable[Any], respond: Respond | None = None) -> None:
        """Run `work` in a task of `in_flight`, saying `what` failed if it does."""
        self.in_flight.start(_reporting(what, work, respond), name=f"slack {what}")


async def _reporting(what: str, work: Awaitable[Any], respond: Respond | None) -> None:
    try:
        await work
    except SlackApiError as exc:  # Slack refused or failed: its answer says all
        log.warning("slack: %s failed (%s)", what, one_line(exc))
    except Exception:
        log.exception("slack: %s failed", what)  # the formatter redacts tokens
    else:
        return
    if respond is not None:
        try:
            await respond(response_type="ephemeral", replace_original=False, **error_message())
        except Exception:
            log.exception("slack: could not report the failure of %s", what)
