"""Installs: Slack's OAuth installs in many workspaces and their store (`store.py`). It imports
`bot.storage` and the top-level modules only, no platform library."""
