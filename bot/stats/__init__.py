"""Stats: counts per day and channel (commands, themes and quotes shown, posts, the words of
searches that found nothing), never a user id; counted in memory (`recorder.py`) and written
in batches (`sql_store.py`), so recording never slows or fails a command."""
