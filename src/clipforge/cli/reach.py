"""Before a command talks to a local server: wait for one that is starting; when none answers,
say how to start one."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
from rich.console import Console

from clipforge.cli import starting

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
WAIT_SECONDS = 120.0


def _local_port(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return None
    return parts.port or (443 if parts.scheme == "https" else 80)


def wait_if_starting(url: str, console: Console) -> None:
    """If `clipforge serve` on this machine is starting on `url`'s port, wait (up to two
    minutes, saying so) until it answers or the process is gone."""
    port = _local_port(url)
    pid = starting.starting_pid(port) if port else None
    if pid is None:
        return
    console.print(f"waiting for the server at {url} to finish starting (pid {pid})…")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and starting.starting_pid(port or 0) is not None:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)


def why_unreachable(message: str, server: str | None) -> str:
    """The client's "cannot reach URL: ..." with what to do about it."""
    if server is None:
        fix = "start one with `clipforge serve`, or point --server / $CLIPFORGE_URL at one"
    else:
        fix = "check the address, or start a server there with `clipforge serve`"
    return f"{message}; no ClipForge server answers there: {fix}"
