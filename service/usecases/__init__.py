"""Application functions: one per command, each owning exactly one transaction."""
