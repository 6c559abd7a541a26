"""Loaded at start-up by every Python whose PYTHONPATH holds tests/shim: see fake_endpoints."""

import fake_endpoints

fake_endpoints.install()
