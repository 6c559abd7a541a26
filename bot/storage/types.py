"""Column types stored natively in PostgreSQL and as text in SQLite, and the database's clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from operator import methodcaller
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine


def _utc_text(value: datetime) -> str:
    # Always in UTC, so the text of two instants compares as the instants do (a pass's
    # `next_due_at <= :now` is an index range over this text).
    return (value.astimezone(UTC) if value.tzinfo else value).isoformat()


def _utc(value: str) -> datetime:
    found = datetime.fromisoformat(value)
    # lambert writes aware UTC instants; a naive one can only have meant UTC.
    return found if found.tzinfo else found.replace(tzinfo=UTC)


class PerDialect(sa.TypeDecorator[Any]):
    """`native` in PostgreSQL; in SQLite a `text` column, converted by `to_text`/`from_text`."""

    impl = sa.Text
    cache_ok = True

    def __init__(
        self,
        native: TypeEngine[Any],
        text: TypeEngine[Any] | None = None,
        to_text: Callable[[Any], Any] = methodcaller("isoformat"),
        from_text: Callable[[Any], Any] = lambda value: value,
    ) -> None:
        super().__init__()
        self.native, self.text = native, text or sa.Text()
        self.to_text, self.from_text = to_text, from_text

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(self.text if dialect.name == "sqlite" else self.native)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return self.to_text(value) if value is not None and dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return self.from_text(value) if value is not None and dialect.name == "sqlite" else value


# An aware UTC datetime: TIMESTAMPTZ, or ISO-8601 text (`2026-12-01T09:00:00+00:00`).
Instant = PerDialect(sa.TIMESTAMP(timezone=True), to_text=_utc_text, from_text=_utc)
# A date: DATE, or ISO text (`2026-12-01`).
Day = PerDialect(sa.Date(), from_text=date.fromisoformat)
# A wall-clock time of day: TIME, or `HH:MM` text.
LocalTime = PerDialect(
    sa.Time(), to_text=lambda t: t.strftime("%H:%M"), from_text=time.fromisoformat
)
# A boolean: BOOLEAN, or INTEGER 0/1 (with a CHECK in the table).
Flag = PerDialect(sa.Boolean(), sa.Integer(), to_text=int, from_text=bool)
# When a lease ends, only ever computed by the database's clock (`db_later`): TIMESTAMPTZ,
# or a REAL julian day of SQLite's `julianday('now')`.
LeaseExpiry = PerDialect(sa.TIMESTAMP(timezone=True), sa.Float(), to_text=lambda value: value)


# The database's clock, never a host's: replicas whose clocks differ agree on which lease is
# live. The only dialect-specific SQL of the leases, compiled per backend.
class db_now(FunctionElement[Any]):
    inherit_cache = True


class db_later(FunctionElement[Any]):  # now plus a bound number of seconds
    inherit_cache = True


class seconds_until(FunctionElement[Any]):  # from now to a lease's expiry
    type = sa.Float()
    inherit_cache = True


def _render(sql: str) -> Callable[..., str]:
    def render(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return sql.format(compiler.process(element.clauses, **kw))

    return render


for _function, (_sqlite, _postgresql) in {  # {} is the function's argument
    db_now: ("julianday('now')", "now()"),
    db_later: ("(julianday('now') + {} / 86400.0)", "(now() + make_interval(secs => {}))"),
    seconds_until: (
        "(({}) - julianday('now')) * 86400.0",
        "extract(epoch FROM ({}) - now())::float8",
    ),
}.items():
    compiles(_function, "sqlite")(_render(_sqlite))
    compiles(_function)(_render(_postgresql))
