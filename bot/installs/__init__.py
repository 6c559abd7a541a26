"""Installs: the chat apps installed in many workspaces (Slack's OAuth installs). The
install (`store.py`, plain data: the adapter converts to and from the platform's types) and
the store on the state's engine (`sql_store.py`). An install under way keeps
nothing here: its OAuth state is signed and expires (bot/adapters/slack/oauth_state.py).

It may import `bot.storage` and the top-level modules; never quotes, daily, chat, serving,
adapters or cli, and no platform library.
"""
