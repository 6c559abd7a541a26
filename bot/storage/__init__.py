"""Storage: the shared state's engine (SQLite or PostgreSQL), its tables once (`schema.py`), the
Alembic history run at start under a lock (`migrate.py`, `alembic/`), the one-time re-keying of
Slack channels (`rekey.py`) and `lambert db copy` (`copy.py`); and, for the quote tables, the
SQLite file's connection (pragmas, refusal of corrupt or newer files), their own migrations and
online backup.

It owns no feature's tables' meaning, only their existence. It may import the standard library,
aiosqlite, SQLAlchemy, Alembic, psycopg and `bot.config`; nothing above it (quotes, daily,
chat, serving, adapters, cli).
"""
