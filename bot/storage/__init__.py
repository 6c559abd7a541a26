"""Storage: opening the SQLite file (pragmas, refusal of corrupt or newer files), the versioned
migrations, one write transaction at a time per connection, and online backup; and
`postgres.py`, the PostgreSQL pool and its own migrations, for the state replicas share;
`copy.py` moves that state from an installation's SQLite file into PostgreSQL.

It owns no feature's tables' meaning, only their existence. It may import the standard library,
aiosqlite, asyncpg and `bot.config`; nothing above it (quotes, daily, chat, serving, adapters, cli).
"""
