"""The server's periodic sweep: queued tasks past their deadline end `expired`, and finished
jobs' video files older than the retention period are removed.

It runs in a thread of the server process (a `BackgroundService` of the app), so it never
holds up the event loop; a sweep that fails is logged and the next one tries again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from clipforge.files.base import Storage, job_keys
from clipforge.settings import Settings
from clipforge.store.base import JobStore

log = logging.getLogger(__name__)
DAY_SECONDS = 86_400.0


class Housekeeper:
    """Sweeps every `settings.sweep_interval_seconds` from start() to stop()."""

    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.storage, self.settings = store, storage, settings
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="housekeeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def sweep(self) -> tuple[int, int]:
        """One pass: (tasks expired, files removed)."""
        expired = len(self.store.expire_due())
        return expired, self.purge_files()

    def purge_files(self) -> int:
        days = self.settings.retention_days
        if days is None:
            return 0
        removed = 0
        cutoff = self._clock() - days * DAY_SECONDS
        while jobs := self.store.files_to_purge(cutoff):
            for job in jobs:
                for key in job_keys(job.id):  # the video and its first and last frames
                    self.storage.delete(key)
                self.store.mark_purged(job.id)
                removed += 1
        return removed

    def _run(self) -> None:
        while not self._stop.wait(self.settings.sweep_interval_seconds):
            try:
                self.sweep()
            except Exception:  # the next sweep tries again; the server stays up
                log.exception("housekeeping sweep failed")
