"""Model backends: a validated request in, native-size frames out (see base.py)."""
