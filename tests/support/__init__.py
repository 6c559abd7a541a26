"""What the tests (and bench/) share: paths, nasty inputs, platform builders, fixture plugins.

Test modules import from here, from tests.fakes and from tests.shim, never from each other.
"""
