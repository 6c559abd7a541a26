"""Chat: what every platform shares about a conversation: the request context, the neutral
replies adapters render, and the grammar. It may import `bot.quotes`, `bot.daily`,
`bot.storage` and the top-level modules; never serving, adapters or cli, nor a platform library.
"""
