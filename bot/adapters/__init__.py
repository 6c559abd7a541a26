"""Platform adapters: each translates between one chat platform and the core, nothing more."""
