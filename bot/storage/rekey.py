"""Bare Slack channel names keyed by their workspace in every state table: the work of
revision 0003 and of `lambert slack adopt --workspace`."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.platforms import WORKSPACE_ID, shown

# LIKE: '/' is no wildcard; a bare name holds none.
_BARE = "platform = :platform AND channel NOT LIKE '%/%'"
_KEYED = "CAST(:prefix AS TEXT) || channel"


class Rekeyed(NamedTuple):
    """What moved: schedules, days, bags (channels that had drawn quotes), previews, stats rows."""

    schedules: int = 0
    days: int = 0
    bags: int = 0
    previews: int = 0
    stats_rows: int = 0

    @property
    def total(self) -> int:
        return sum(self)

    def summary(self) -> str:
        """Like "3 schedules, 41 days, 1 bag, 5 previews, 12 stats rows"."""
        names = ("schedule", "day", "bag", "preview", "stats row")
        return ", ".join(
            f"{n} {name}{'' if n == 1 else 's'}" for n, name in zip(self, names, strict=True)
        )


def bare_rows(conn: Connection, platform: str = "slack") -> int:
    query = f"SELECT count(*) FROM daily_schedules WHERE {_BARE}"
    return int(conn.execute(sa.text(query), {"platform": platform}).scalar_one())


def key_by_workspace(conn: Connection, workspace: str, platform: str = "slack") -> Rekeyed:
    """Prefix "WORKSPACE/" to every bare channel name of `platform`, in the caller's transaction,
    in place (a day keeps its claim token). A daily row whose new name is taken gives way to the
    keyed one; a stats row is summed into its keyed twin. 0s when run again; ValueError for an
    id that is not a workspace's."""
    if not WORKSPACE_ID.fullmatch(workspace):
        raise ValueError(f"not a Slack workspace id (like T0123ABC): {shown(workspace)}")
    binds = {"platform": platform, "prefix": f"{workspace}/"}

    def run(statement: str) -> int:
        return conn.execute(sa.text(statement), binds).rowcount or 0

    bags = conn.execute(
        sa.text(f"SELECT count(DISTINCT channel) FROM daily_bag WHERE {_BARE}"), binds
    ).scalar_one()
    daily = []
    for table, key in DAILY:
        same = "".join(f" AND k.{column} = {table}.{column}" for column in key)
        daily.append(
            run(
                f"UPDATE {table} SET channel = {_KEYED} WHERE {_BARE} AND NOT EXISTS (SELECT 1 "
                f"FROM {table} k WHERE k.platform = {table}.platform "
                f"AND k.channel = CAST(:prefix AS TEXT) || {table}.channel{same})"
            )
        )
        run(f"DELETE FROM {table} WHERE {_BARE}")
    previews = run(f"UPDATE preview_posts SET channel = {_KEYED} WHERE {_BARE}")
    stats = 0
    for stats_table, conflict in STATS:
        columns = f"{conflict}, count"
        keyed = columns.replace("channel", f"{_KEYED} AS channel")
        stats += run(
            f"INSERT INTO {stats_table} ({columns}) SELECT {keyed} FROM {stats_table} "
            f"WHERE {_BARE} AND true ON CONFLICT ({conflict}) "
            f"DO UPDATE SET count = {stats_table}.count + excluded.count"
        )  # `AND true`: SQLite tells the upsert's ON CONFLICT from a join's ON
        run(f"DELETE FROM {stats_table} WHERE {_BARE}")
    return Rekeyed(daily[0], daily[1], int(bags), previews, stats)


# Each daily table, with its key's columns beside platform and channel.
DAILY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("daily_schedules", ()),
    ("daily_posts", ("local_date",)),
    ("daily_bag", ("quote_id",)),
)
# Each stats table, with its key (every column but `count`).
STATS = (
    ("stats_counts", "day, platform, space, channel, metric, name, detail"),
    ("stats_empty_searches", "day, platform, space, channel, words"),
)
