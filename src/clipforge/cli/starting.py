"""A marker that says "a `clipforge serve` on this port is starting", so that a client that
finds the port closed can tell "wait a moment" from "nothing runs here"."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def marker(port: int) -> Path:
    return Path(tempfile.gettempdir()) / f"clipforge-serve-{port}.starting"


def mark_starting(port: int) -> Path:
    path = marker(port)
    path.write_text(str(os.getpid()))
    return path


def clear(port: int) -> None:
    path = marker(port)
    try:
        if path.read_text().strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass


def starting_pid(port: int) -> int | None:
    """The id of a live process that marked `port` as starting; None when none did."""
    try:
        pid = int(marker(port).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid
