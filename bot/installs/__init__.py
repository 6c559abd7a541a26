"""Installs: the chat apps installed in many workspaces (Slack's OAuth installs) and the
one-time OAuth states of installs under way, and the workspace of the one bot token of
single-token days (token_workspaces). The port (`store.py`) and the store on the shared
state (`sql_store.py`); plain data only, so the adapter converts to and from the platform's
types.

It may import `bot.storage` and the top-level modules; never quotes, daily, chat, serving,
adapters or cli, and no platform library.
"""
