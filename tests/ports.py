"""Loopback ports for servers that bind them in another process (`clipforge serve`, PostgreSQL,
Prometheus). A server in this process binds its own socket instead (tests/live.py)."""

from __future__ import annotations

import os
import socket


def _worker() -> tuple[int, int]:
    """(this xdist worker's index, the number of workers); (0, 1) without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return int(name.removeprefix("gw")), max(count, 1)


def free_port() -> int:
    """A loopback port that nothing listens on now, left free for the caller's server.

    The kernel picks it (random, so separate test runs on one machine rarely meet), and each
    xdist worker keeps only ports of its own share, so that between the pick and the server's
    bind no other worker of this run can take it. Linux hands out even ports to bind(), hence
    the share is counted in pairs."""
    index, count = _worker()
    for _ in range(1000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if (port // 2) % count == index:
            return port
    raise RuntimeError(f"no free port for worker {index} of {count}")
