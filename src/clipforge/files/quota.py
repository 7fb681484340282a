"""The storage quota (CLIPFORGE_STORAGE_QUOTA_BYTES): new jobs are refused with a 507 while
the stored files hold the quota or more, before the disk (or the bucket's budget) is full.

Counting what is stored walks the folder or lists the bucket prefix: done at most once per
`refresh_seconds`, by one caller while the others use the last count, never per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from clipforge.errors import StorageQuotaExceeded
from clipforge.files.base import Storage

log = logging.getLogger(__name__)


class StorageQuota:
    """Refuses new jobs once `storage.used_bytes()` reaches `quota_bytes` (None: no quota)."""

    def __init__(
        self,
        storage: Storage,
        quota_bytes: int | None,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.quota_bytes = quota_bytes
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._counting = threading.Lock()
        self.used: int | None = None
        self._counted_at = float("-inf")

    @property
    def enabled(self) -> bool:
        return self.quota_bytes is not None

    def check(self) -> None:
        """StorageQuotaExceeded when the last count reached the quota (blocking: it may
        count; call it in a thread)."""
        if self.quota_bytes is None:
            return
        self._refresh_if_due()
        if self.used is not None and self.used >= self.quota_bytes:
            raise StorageQuotaExceeded(self.used, self.quota_bytes)

    def _refresh_if_due(self) -> None:
        if self._clock() - self._counted_at < self.refresh_seconds and self.used is not None:
            return
        if not self._counting.acquire(blocking=self.used is None):
            return  # another request is counting: use the last count
        try:
            self.used = self.storage.used_bytes()
            self._counted_at = self._clock()
        except Exception as exc:  # a fault is the create's to meet, not the quota's
            log.warning("storage usage not counted: %s", type(exc).__name__)
        finally:
            self._counting.release()
