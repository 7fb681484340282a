"""Whether storage takes writes now, as the workers of one process last found it.

A worker that meets a storage fault (`files/faults.py`) gives its job back and reports the
fault here; from then on it claims nothing until a probe (write and delete a small file, in
storage and in the scratch folder) succeeds. Probes back off from `FIRST_DELAY_SECONDS`,
doubling to `MAX_DELAY_SECONDS`, so that a long outage costs a probe now and then, not a
claim loop. `/readyz`, the metrics and the log say while it lasts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from clipforge.errors import StorageUnavailable
from clipforge.files.base import Storage, check_key
from clipforge.files.faults import as_storage_fault

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 15.0
PROBE = b"\x89PNG\r\n\x1a\n"
"""What a probe writes (and deletes again)."""


def probe_storage(storage: Storage) -> None:
    """Write and delete a small file; StorageUnavailable when storage cannot."""
    key = check_key(f"ready-{uuid.uuid4().hex}.png")
    storage.put_bytes(key, PROBE)
    storage.delete(key)


class StorageHealth:
    """Healthy until a fault is reported; then unhealthy until `probe` passes."""

    def __init__(
        self, probe: Callable[[], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._probe = probe
        self._clock = clock
        self._lock = threading.Lock()
        self.healthy = True
        self.reason = ""
        self.faults = 0
        """Storage faults reported since the process started (the metrics' counter)."""
        self.given_back = 0
        """Jobs given back to the queue because of one."""
        self._since = 0.0
        self._delay = FIRST_DELAY_SECONDS
        self._next_probe = 0.0

    def fault(self, error: StorageUnavailable, job_given_back: bool = False) -> None:
        """Storage failed: claim nothing until a probe passes."""
        with self._lock:
            self.faults += 1
            self.given_back += int(job_given_back)
            self.reason = error.reason
            if self.healthy:
                self.healthy, self._since = False, self._clock()
                self._delay = FIRST_DELAY_SECONDS
                log.warning("storage unavailable (%s): workers pause claiming", error.reason)
            self._next_probe = self._clock() + self._delay
            self._delay = min(self._delay * 2, MAX_DELAY_SECONDS)

    def unhealthy_for(self) -> float | None:
        """Seconds since storage failed; None while it is healthy."""
        return None if self.healthy else self._clock() - self._since

    def wait_before_claim(self) -> float:
        """0 when a worker may claim now; else the seconds until the next probe is due (a
        due probe runs here, in the caller's thread)."""
        with self._lock:
            if self.healthy:
                return 0.0
            wait = self._next_probe - self._clock()
        if wait > 0:
            return wait
        try:
            self._probe()
        except Exception as exc:
            fault = as_storage_fault(exc) or StorageUnavailable(type(exc).__name__)
            self.fault(fault)
            return max(self._next_probe - self._clock(), 0.01)
        with self._lock:
            if not self.healthy:
                log.warning("storage is back after %.1f s: workers claim again", self._outage())
            self.healthy, self.reason = True, ""
        return 0.0

    def _outage(self) -> float:
        return self._clock() - self._since
