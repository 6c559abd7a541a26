"""Serving: `lambert serve`, posting without it, health, probes; never importing adapters or cli."""
