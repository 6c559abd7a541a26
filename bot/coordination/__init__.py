"""Coordination: who runs what. Worker leases (a scheduler is alive while its row is) and
Discord shard leases (one live process per shard of a bot), timed by the database's clock, in
the shared state (`store.py`). It may import `bot.storage` and the top-level modules."""
