"""Test fakes of the chat platforms."""
