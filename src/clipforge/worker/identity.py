"""Worker identities: host, pid and a boot token, so a restart can spot orphaned jobs."""

from __future__ import annotations

import os
import secrets
import socket

# Tells this process's workers from an earlier process that had the same pid (containers
# restart as pid 1), so the earlier one's jobs are recognised as orphaned.
_BOOT = secrets.token_hex(4)


def local_worker_id(index: int) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_BOOT}:{index}"


def is_dead_local_worker(worker_id: str) -> bool:
    """True when `worker_id` belongs to a process on this host that no longer runs."""
    parts = worker_id.split(":")
    if len(parts) != 4 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return parts[2] != _BOOT
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
