"""Coordination: who runs what (worker and Discord shard leases, by the database's clock)."""
