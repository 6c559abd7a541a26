"""Storage: the shared state's engine, tables and Alembic history; the quote tables' SQLite
file (`connection.py`) and its backup. It owns no feature's tables' meaning, only their
existence, and imports nothing above it (quotes, daily, chat, serving, adapters, cli)."""
