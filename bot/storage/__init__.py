"""Storage: opening the SQLite file (pragmas, refusal of corrupt or newer files), the versioned
migrations, one write transaction at a time per connection, and online backup.

It owns no feature's tables' meaning, only their existence. It may import the standard library,
aiosqlite and `bot.config`; nothing above it (quotes, daily, chat, serving, adapters, cli).
"""
