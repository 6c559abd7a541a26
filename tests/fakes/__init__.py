"""Loopback fakes of the chat platforms."""
