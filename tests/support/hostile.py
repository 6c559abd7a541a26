"""User text that breaks naive code: FTS5 syntax, SQL, mentions, invisible and odd Unicode."""

from __future__ import annotations

HOSTILE = [
    "",
    "   ",
    '"',
    '"unbalanced',
    '""',
    "AND(",
    "NEAR(",
    "NEAR(a b, 3)",
    "a OR b NOT c",
    "*",
    "**",
    ":",
    "topic:dpo",
    "c++",
    "-dpo",
    "^dpo",
    "dpo*",
    "(dpo",
    "{text}: dpo",
    "'; DROP TABLE quotes; --",
    "🤖🔥 rlhf",
    "x" * 10_000,
    "re\u200bward hack\u200cing",
    "\u202edpo\u202c",
    "\u2067rlhf\u2069",
    "nul\x00byte",
    "\ufeffbom",
    "ｄｐｏ",  # full-width letters
    "\u201cobjective mismatch\u201d",
    "@everyone <@&123> <!channel>",
]
