"""Loaded at start-up by every Python whose PYTHONPATH holds tests/shim: see fake_endpoints."""

import os

import fake_endpoints

fake_endpoints.install()
# Read once, then gone: lambert warns of a LAMBERT_* variable it does not read itself.
for name in (fake_endpoints.DISCORD_URL, fake_endpoints.SLACK_URL):
    os.environ.pop(name, None)
