"""Keeps a running job's lease alive from a side thread while the model works."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from clipforge.errors import JobCancelled
from clipforge.settings import Settings
from clipforge.store.base import Claim, JobStore

log = logging.getLogger(__name__)


class Heartbeat:
    """Renews the claim every `heartbeat_seconds`; `check()` raises once the claim is lost.

    A lost claim means the job was cancelled, or the lease ran out and another worker took
    the job: either way this worker must stop at its next step.
    """

    def __init__(self, store: JobStore, claim: Claim, settings: Settings) -> None:
        self._store = store
        self._claim = claim
        self._interval = settings.heartbeat_seconds
        self._lease = settings.lease_seconds
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> None:
        if self._lost.is_set():
            raise JobCancelled("job cancelled or taken over by another worker")

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                renewed = self._store.heartbeat(self._claim, self._lease)
            except Exception:
                # The database is away (a restart): keep trying; the lease covers the gap,
                # and if it runs out meanwhile the fenced writes tell this worker it lost.
                log.warning("heartbeat of job %s failed; retrying", self._claim.job.id)
                continue
            if not renewed:
                self._lost.set()
                return
