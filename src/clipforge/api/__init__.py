"""The HTTP API: one router per surface over one job store."""
