"""Test-only helpers: aim `lambert` (a subprocess, or serve() in process) at the fakes."""
