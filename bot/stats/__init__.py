"""Stats: counts per day and channel, never a user id; counted in memory (`recorder.py`) and
written in batches (`sql_store.py`), so recording never slows or fails a command."""
