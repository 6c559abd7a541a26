"""Slack via slack-bolt: Socket Mode or HTTP, one workspace or many (OAuth)."""
