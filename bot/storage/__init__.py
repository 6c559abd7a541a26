"""Storage: the quote tables' SQLite file (connection: pragmas, refusal of corrupt or newer
files, their own migrations; online backup), and the shared state written once on SQLAlchemy:
its tables (schema), its AsyncEngine on the SQLite file or PostgreSQL (engine), its Alembic
history run at start (migrate, alembic/), its opening on first use (lazy), and `copy.py`,
which moves it from an installation's SQLite file into PostgreSQL.

It owns no feature's tables' meaning, only their existence. It may import the standard library,
aiosqlite, SQLAlchemy, Alembic, psycopg and the top-level modules; nothing above it.
"""
