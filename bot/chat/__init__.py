"""Chat: what every platform shares about a conversation. The request context (who asks, where,
and how to learn lazily whether they are an admin), the neutral replies adapters render, and the
grammar: one table of verbs that drives parsing, dispatch and help.

It may import `bot.quotes`, `bot.daily`, `bot.storage` and the top-level modules; never serving,
adapters or cli, and no platform library.
"""
