"""Scratch files of a worker process (a clip being encoded): one folder per process under
`<data_dir>/tmp`, named after the process, so that the folders of a process that was killed
(SIGKILL, a lost machine) can be told apart and removed when a worker starts again."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from clipforge.files.base import Storage
from clipforge.files.health import PROBE, StorageHealth, probe_storage
from clipforge.store.base import JobStore
from clipforge.worker.identity import is_dead_local_process, is_dead_local_worker, process_name

log = logging.getLogger(__name__)

LOOSE_FILE_AGE_SECONDS = 3600.0
"""Files directly in tmp/ (the layout before per-process folders) older than this go too."""


def scratch_root(data_dir: Path) -> Path:
    return data_dir / "tmp"


def process_scratch(data_dir: Path) -> Path:
    """This process's scratch folder (created)."""
    folder = scratch_root(data_dir) / process_name(".")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def recover_orphans(store: JobStore, data_dir: Path) -> int:
    """What processes of this host that died (a crash or SIGKILL before a restart) left:
    their running jobs requeued (faster than waiting for their leases) and their scratch
    folders removed. Both process shapes (`serve` and `worker`) run it once at start."""
    dead = [w for w in store.running_worker_ids() if is_dead_local_worker(w)]
    count = store.recover(dead) if dead else 0
    if count:
        log.warning("requeued %d job(s) left running by a process that died", count)
    remove_orphaned_scratch(data_dir)
    return count


def remove_orphaned_scratch(data_dir: Path) -> int:
    """Remove the scratch folders of this host's processes that no longer run; how many."""
    root = scratch_root(data_dir)
    if not root.is_dir():
        return 0
    removed = 0
    for entry in root.iterdir():
        if entry.is_dir():
            parts = entry.name.rsplit(".", 2)
            if len(parts) == 3 and is_dead_local_process(*parts):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        elif time.time() - entry.stat().st_mtime > LOOSE_FILE_AGE_SECONDS:
            entry.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.warning("removed %d scratch folder(s) left by processes that died", removed)
    return removed


def storage_health(storage: Storage, data_dir: Path) -> StorageHealth:
    """Storage health whose probe writes to `storage` and to this process's scratch folder."""

    def probe() -> None:
        probe_storage(storage)
        probe_scratch(data_dir)

    return StorageHealth(probe)


def probe_scratch(data_dir: Path) -> None:
    """Write and remove a small file in this process's scratch folder (OSError if not)."""
    path = process_scratch(data_dir) / f"probe-{time.monotonic_ns()}.tmp"
    try:
        path.write_bytes(PROBE)
    finally:
        path.unlink(missing_ok=True)
