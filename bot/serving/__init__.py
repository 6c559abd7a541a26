"""Serving: `lambert serve` (platforms, then the one scheduler, until a signal), the daily
posters used without serving, heartbeats for `lambert health`, and in-flight work tracking.

Platforms are reached through `bot.platforms` by module name, never imported here. It may
import chat, daily, quotes, storage and the top-level modules; never adapters or cli.
"""
