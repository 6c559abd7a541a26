"""Adapters: the only code that imports a platform library (discord.py, slack-bolt, slack_sdk,
aiohttp). Each turns a platform event into a core call and a neutral reply into platform
output: `console.py`, `discord/`, `slack/`.

They may import everything below them (serving, chat, daily, quotes, storage, the top-level
modules) but not `bot.cli`, and one platform's package never imports another's.
"""
