"""The `clipforge` command: serve, worker, keys (server side) and generate, status, list,
cancel, models (clients of a running server, through the SDK). Apart from the SDK, so that
`clipforge.client` never pulls in server code."""

from clipforge.cli.app import app, main

__all__ = ["app", "main"]
