"""Stats: per day and per channel, counts only (commands by verb and outcome, themes and
quotes shown, quotes posted, the words of searches that found nothing), never a user id.

A `StatsRecorder` counts in memory and writes in batches to the store on the shared state
(`sql_store.py`; its keys in `store.py`), so recording never slows or fails a command.
It may import `bot.storage` and the top-level modules; never quotes, daily, chat, serving,
adapters or cli, and no platform library.
"""
