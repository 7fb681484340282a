"""Keeps a running job's lease alive from a side thread while the model works."""

from __future__ import annotations

import logging
import threading

from clipforge.errors import JobCancelled
from clipforge.settings import Settings
from clipforge.store.base import Claim, JobStore
from clipforge.worker.periodic import Periodic

log = logging.getLogger(__name__)


class Heartbeat(Periodic):
    """Renews the claim every `heartbeat_seconds`; `check()` raises once the claim is lost.

    A lost claim means the job was cancelled, or the lease ran out and another worker took
    the job: either way this worker must stop at its next step.
    """

    def __init__(self, store: JobStore, claim: Claim, settings: Settings) -> None:
        super().__init__(settings.heartbeat_seconds, "heartbeat")
        self._store = store
        self._claim = claim
        self._lease = settings.lease_seconds
        self._lost = threading.Event()

    def check(self) -> None:
        if self._lost.is_set():
            raise JobCancelled("job cancelled or taken over by another worker")

    def beat(self) -> bool:
        try:
            renewed = self._store.heartbeat(self._claim, self._lease)
        except Exception:
            # The database is away (a restart): keep trying; the lease covers the gap,
            # and if it runs out meanwhile the fenced writes tell this worker it lost.
            log.warning("heartbeat of job %s failed; retrying", self._claim.job.id)
            return True
        if not renewed:
            self._lost.set()
        return renewed
