"""The stats SQL that SQLite and PostgreSQL both run as written, so the two stores never drift.

Written with `?` placeholders (SQLite's); `numbered()` turns them into PostgreSQL's `$1, $2`.
"""

from __future__ import annotations

import itertools
import re

from bot.stats.store import Scope

# Sorted before adding: replicas upserting the same rows take their locks in one order.
ADD_COUNT = (
    "INSERT INTO stats_counts (day, platform, space, channel, metric, name, detail, count) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, platform, space, channel, metric, name, detail) "
    "DO UPDATE SET count = stats_counts.count + excluded.count"
)
ADD_WORDS = (
    "INSERT INTO stats_empty_searches (day, platform, space, channel, words, count) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, platform, space, channel, words) "
    "DO UPDATE SET count = stats_empty_searches.count + excluded.count"
)
FORGET_WORDS = "DELETE FROM stats_empty_searches WHERE day < ?"

# Moving one workspace's bare channel names under its prefix (key_bare_channels): each
# bare row is added to its keyed twin, summed when that exists, then removed. `WHERE true`
# lets SQLite tell the upsert's ON CONFLICT from a join's ON. LIKE: '/' is no wildcard.
BARE = "platform = ? AND channel NOT LIKE '%/%'"
# Whether either table counts a channel of the platform by a bare name; binds: the
# platform, twice.
ANY_BARE = (
    f"SELECT EXISTS (SELECT 1 FROM stats_counts WHERE {BARE}) "
    f"OR EXISTS (SELECT 1 FROM stats_empty_searches WHERE {BARE})"
)
KEY_BARE_COUNTS = (
    "INSERT INTO stats_counts (day, platform, space, channel, metric, name, detail, count) "
    "SELECT day, platform, space, CAST(? AS TEXT) || channel, metric, name, detail, count "
    f"FROM stats_counts WHERE {BARE} AND true "
    "ON CONFLICT (day, platform, space, channel, metric, name, detail) "
    "DO UPDATE SET count = stats_counts.count + excluded.count"
)
KEY_BARE_WORDS = (
    "INSERT INTO stats_empty_searches (day, platform, space, channel, words, count) "
    "SELECT day, platform, space, CAST(? AS TEXT) || channel, words, count "
    f"FROM stats_empty_searches WHERE {BARE} AND true "
    "ON CONFLICT (day, platform, space, channel, words) "
    "DO UPDATE SET count = stats_empty_searches.count + excluded.count"
)
DROP_BARE_COUNTS = f"DELETE FROM stats_counts WHERE {BARE}"
DROP_BARE_WORDS = f"DELETE FROM stats_empty_searches WHERE {BARE}"
# (add to the keyed rows: prefix, platform; drop the bare ones: platform), per table.
KEY_BARE = ((KEY_BARE_COUNTS, DROP_BARE_COUNTS), (KEY_BARE_WORDS, DROP_BARE_WORDS))

TALLIES = (
    "SELECT metric, name, detail, CAST(sum(count) AS BIGINT) AS count FROM stats_counts "
    "WHERE day >= ? AND {scope} GROUP BY metric, name, detail"
)
BY_DAY = (
    "SELECT day, metric, CAST(sum(count) AS BIGINT) AS count FROM stats_counts "
    "WHERE day >= ? AND {scope} GROUP BY day, metric ORDER BY day, metric"
)
# A channel's daily posts are counted with space '' (the scheduler knows no workspace):
# max() prefers a metric's real space; the summary gives the channel its commands' space.
BY_CHANNEL = (
    "SELECT platform, max(space) AS space, channel, metric, CAST(sum(count) AS BIGINT) AS count "
    "FROM stats_counts WHERE day >= ? AND {scope} "
    "GROUP BY platform, channel, metric ORDER BY platform, channel, metric"
)
EMPTY_SEARCHES = (
    "SELECT words, CAST(sum(count) AS BIGINT) AS count FROM stats_empty_searches "
    "WHERE day >= ? AND {scope} GROUP BY words ORDER BY count DESC, words LIMIT ?"
)


def scoped(statement: str, scope: Scope) -> tuple[str, tuple[str, ...]]:
    """`statement` with its `{scope}` filled in, and the values that filter binds."""
    if scope.platform is None:
        return statement.format(scope="1 = 1"), ()
    if scope.channel is not None:
        where = "platform = ? AND channel = ? AND space IN (?, '')"
        return statement.format(scope=where), (scope.platform, scope.channel, scope.space or "")
    # A workspace or server: its channels, and the space-less daily posts of channels that
    # were used from it.
    where = (
        "platform = ? AND (space = ? OR (space = '' AND channel IN "
        "(SELECT channel FROM stats_counts WHERE platform = ? AND space = ?)))"
    )
    space = scope.space or ""
    return statement.format(scope=where), (scope.platform, space, scope.platform, space)


def numbered(statement: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (no statement here has a literal `?`)."""
    counter = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(counter)}", statement)
