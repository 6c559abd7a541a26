"""Storage: the shared state's engine, tables and Alembic history, the quote tables' SQLite file
and its backup; their existence, not their meaning. It imports nothing above it."""
