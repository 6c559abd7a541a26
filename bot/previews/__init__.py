"""Previews: the claim that makes one private quote preview post to its channel at most once,
however often Post is clicked or a click is replayed. The port (`store.py`, with an in-memory
one) and the store on the shared state (`sql_store.py`).

It may import `bot.storage` and the top-level modules; never quotes, daily, chat, serving,
adapters or cli, and no platform library.
"""
