"""Who runs what: worker leases (a scheduler is alive) and Discord shard leases, in the state."""
