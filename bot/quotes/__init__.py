"""Quotes: the corpus file, the quote tables and their FTS5 index, search, and `QuoteService`.
The corpus is read-only at run time. It may import `bot.storage` and `bot.config`; never
daily, chat, serving, adapters or cli, and no platform library.
"""
