"""Process metrics as the core reports them: a small port whose default does nothing.

`lambert serve` with LAMBERT_HTTP_PORT installs Prometheus instruments behind it
(bot/serving/probes.py). At the base of the layers, so any layer may report without importing
serving. In memory, from zero each process; the counts kept in the database are bot/stats.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime


class Metrics:
    """What the core reports. Every method is synchronous, cheap and never raises; this
    base class drops everything (one-shot commands, the console, tests)."""

    def command(self, platform: str, verb: str, outcome: str, started: float) -> None:
        """A command was answered on `platform`: its verb, how it ended (stats' outcome
        kinds), and when it started (`time.perf_counter()`), for the answer's latency."""

    def daily_post(
        self, outcome: str, due: datetime | None = None, at: datetime | None = None
    ) -> None:
        """A daily post's attempt ended: posted, retrying, failed, unknown or missed. For a
        post: when it was due and when the platform took it, for the scheduler's lag."""

    def store_call(self, backend: str, operation: str, seconds: float) -> None:
        """A daily-state store call (`operation`, a DailyStore method) took `seconds`."""


_current = Metrics()


def metrics() -> Metrics:
    """Where to report now: the installed instruments, or the no-op default."""
    return _current


@contextmanager
def reporting_to(sink: Metrics) -> Iterator[Metrics]:
    """Report to `sink` until the block ends, then to whatever was there before."""
    global _current
    before, _current = _current, sink
    try:
        yield sink
    finally:
        _current = before
