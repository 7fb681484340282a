"""A worker's presence in the database: who it is, whether it is busy, the model it holds and
the device memory that takes, reported every heartbeat from a side thread (idle or not), and
removed when it stops. `/readyz` and `/metrics` read it (`store/presence.py`)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol, Self

from clipforge.store.operations import OperationsStore
from clipforge.store.presence import WorkerPresence
from clipforge.worker.periodic import Periodic

log = logging.getLogger(__name__)


class Reporting(Protocol):
    """What the presence thread asks of a worker."""

    worker_id: str

    @property
    def busy(self) -> bool: ...

    @property
    def warm_model(self) -> str | None: ...

    @property
    def device(self) -> Any: ...

    @property
    def adapter_status(self) -> Mapping[str, str | None]: ...


class Presence(Periodic):
    """Reports `worker` now and then every `interval` seconds until the block ends, and
    removes it then."""

    def __init__(self, store: OperationsStore, worker: Reporting, interval: float) -> None:
        super().__init__(interval, f"presence-{worker.worker_id}")
        self._store = store
        self._worker = worker

    def __enter__(self) -> Self:
        self.report()
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        try:
            self._store.remove_worker(self._worker.worker_id)
        except Exception:
            log.warning("worker %s: could not remove its presence", self._worker.worker_id)

    def report_soon(self) -> None:
        """Report now from the presence thread (the worker itself never waits on it)."""
        self.wake()

    def report(self) -> None:
        worker = self._worker
        in_use, peak = device_memory(worker.device)
        self._store.report_worker(
            WorkerPresence(
                worker_id=worker.worker_id,
                seen_at=time.time(),
                busy=worker.busy,
                model=worker.warm_model,
                device=str(worker.device or "cpu"),
                memory_in_use=in_use,
                memory_peak=peak,
                adapters=worker.adapter_status,
            )
        )

    def beat(self) -> bool:
        try:
            self.report()
        except Exception:  # the database is away: the next beat tries again
            log.warning("worker %s: presence not reported; retrying", self._worker.worker_id)
        return True


def device_memory(device: Any) -> tuple[int | None, int | None]:
    """(bytes in use, peak bytes) on a CUDA device; (None, None) elsewhere. Reads torch only
    when the process already loaded it (a test-pattern worker never imports it)."""
    torch = sys.modules.get("torch")
    if torch is None or getattr(device, "type", None) != "cuda" or not torch.cuda.is_available():
        return None, None
    return int(torch.cuda.memory_allocated(device)), int(torch.cuda.max_memory_allocated(device))
