"""lambert: Nathan Lambert's notes as a quote bot for Discord, Slack and the console."""

__version__ = "0.1.0"
