"""Clients of a running ClipForge server: the CLI and the Python SDK."""
