"""Worker identities: host, pid and a boot token, so a restart can spot orphaned jobs."""

from __future__ import annotations

import os
import secrets
import socket

# Tells this process's workers from an earlier process that had the same pid (containers
# restart as pid 1), so the earlier one's jobs are recognised as orphaned.
_BOOT = secrets.token_hex(4)


def local_worker_id(index: int) -> str:
    return f"{process_name(':')}:{index}"


def process_name(separator: str) -> str:
    """This process as host, pid and boot token joined by `separator`."""
    return separator.join((socket.gethostname(), str(os.getpid()), _BOOT))


def is_dead_local_worker(worker_id: str) -> bool:
    """True when `worker_id` belongs to a process on this host that no longer runs."""
    parts = worker_id.split(":")
    return len(parts) == 4 and is_dead_local_process(*parts[:3])


def is_dead_local_process(host: str, pid: str, boot: str) -> bool:
    """True when (host, pid, boot) names a process of this host that no longer runs."""
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return boot != _BOOT
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
