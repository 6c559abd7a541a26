"""Quotes: the corpus file (read and validated), the quote tables and their FTS5 index, the pure
text functions of search, and `QuoteService`, which answers what the grammar asks of quotes.

The corpus is read-only at run time. It may import `bot.storage` and `bot.config`; never
daily, chat, serving, adapters or cli, and no platform library.
"""
