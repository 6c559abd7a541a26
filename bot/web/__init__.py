"""The web site: a page, a card, JSON and an Atom entry for every quote (aiohttp + Jinja2).

Pages are rendered by the views (pages.py, api.py, feed.py) into neutral `Page`s that the
aiohttp app (app.py) serves and the static export (export.py) writes to files: one
implementation for both. It may import quotes, cards, chat (the labels and wording of a
quote), runtime and config; never serving, adapters or cli. aiohttp is allowed here (the
site's own HTTP server) and in adapters only; this module and links.py import none of it, so
adapters can build permalinks without loading the site.
"""
