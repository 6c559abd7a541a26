"""Benchmarks of lambert beside their physical limits: `python -m bench [--quick] [--out PATH]`."""
