"""Serving: `lambert serve`, posting without it, health and probes. Platforms are reached through
`bot.platforms` by module name, never imported here. It may import chat, daily, quotes,
storage and the top-level modules; never adapters or cli.
"""
