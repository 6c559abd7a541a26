"""Slack via slack-bolt: the app (Socket Mode or HTTP), Block Kit rendering, the daily form
(a modal) and the Home tab, the daily poster and the shared HTTP session for response URLs."""
