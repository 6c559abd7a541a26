"""Installs: Slack's OAuth installs in many workspaces, as plain data (`store.py`) and their
store on the state's engine (`sql_store.py`). It imports `bot.storage` and the top-level
modules only, no platform library."""
