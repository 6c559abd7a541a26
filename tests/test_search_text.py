"""The pure FTS escaping: every table row of nasty input yields a query SQLite accepts."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.quotes.search import MAX_QUERY_CHARS, clean_user_text, normalise_name, parse_query, to_fts
from tests.support.hostile import HOSTILE


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize='porter unicode61')")
    conn.execute("INSERT INTO t VALUES ('reward hacking', 'dpo and ppo near c')")
    return conn


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("mode", [{}, {"any_term": True}, {"prefix_last": True}])
def test_hostile_text_becomes_a_query_sqlite_accepts(
    fts: sqlite3.Connection, text: str, mode: dict[str, bool]
) -> None:
    match = to_fts(parse_query(text), **mode)
    if match is not None:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()


@given(st.text(max_size=300))
def test_any_text_becomes_a_query_sqlite_accepts(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61')")
    for mode in ({}, {"any_term": True}, {"prefix_last": True}):
        match = to_fts(parse_query(text), **mode)
        if match is not None:
            conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("re\u200bward", "reward"),
        ("\u202edpo\u202c", "dpo"),
        ("\u2067rlhf\u2069", "rlhf"),
        ("nul\x00byte", "nul byte"),
        ("\ufeffbom", "bom"),
        ("ｄｐｏ", "dpo"),
        ("  many   spaces\n\ttabs ", "many spaces tabs"),
        ("x" * 10_000, "x" * MAX_QUERY_CHARS),
    ],
)
def test_clean_user_text(raw: str, cleaned: str) -> None:
    assert clean_user_text(raw) == cleaned


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reward hacking", '"reward" AND "hacking"'),
        ('"objective mismatch" ceiling', '"objective mismatch" AND "ceiling"'),
        ("\u201cobjective mismatch\u201d", '"objective mismatch"'),
        ("AND(", None),  # only a stop word: no query, not an error
        ("NEAR(a b)", '"b"'),
        ("c++", '"c"'),
        ("*", None),
        ("", None),
        ('"unbalanced', '"unbalanced"'),
    ],
)
def test_to_fts(text: str, expected: str | None) -> None:
    assert to_fts(parse_query(text)) == expected


def test_prefix_applies_to_the_last_term_only() -> None:
    assert to_fts(parse_query("reward hack"), prefix_last=True) == '"reward" AND "hack"*'


def test_any_term_joins_with_or() -> None:
    assert to_fts(parse_query("dpo ppo"), any_term=True) == '"dpo" OR "ppo"'


@pytest.mark.parametrize(
    ("name", "normal"),
    [("DPO vs. PPO", "dpo vs ppo"), ("  Post-Training ", "post training"), ("ＲＬＨＦ", "rlhf")],
)
def test_normalise_name(name: str, normal: str) -> None:
    assert normalise_name(name) == normal
