"""Adapters: the only code that imports a platform library; a platform's package never
imports another's, nor `bot.cli`."""
