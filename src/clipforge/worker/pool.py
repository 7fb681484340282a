"""The in-process workers of `clipforge serve`: one thread per worker, each with a warm model on
its own device where there are several (`backends/devices.py` worker_devices)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from clipforge.backends.base import Backend
from clipforge.files.base import Storage
from clipforge.routing.workers import WeightsRouting
from clipforge.settings import Settings
from clipforge.store.base import JobStore
from clipforge.worker.identity import local_worker_id
from clipforge.worker.runner import Worker
from clipforge.worker.scratch import recover_orphans, storage_health

log = logging.getLogger(__name__)
Loader = Callable[[], Backend] | WeightsRouting
"""How a worker loads its backend: one loader, or the routing of model ids to weights."""


class WorkerPool:
    """Starts `settings.workers` worker threads and requeues jobs orphaned by a crash."""

    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        load_backend: Loader | Sequence[Loader],
        settings: Settings,
    ) -> None:
        """`load_backend`: one loader for every worker, or one per worker (each on its own
        device: `wiring.py` builds them from `backends/devices.py` worker_devices)."""
        self.store = store
        self.settings = settings
        self.health = storage_health(storage, settings.data_dir)
        """One view of storage for every worker thread: one pauses, all pause."""
        loaders = (
            list(load_backend)
            if isinstance(load_backend, Sequence)
            else [load_backend] * settings.workers
        )
        self.workers = [
            Worker(store, storage, loader, settings, local_worker_id(index), self.health)
            for index, loader in enumerate(loaders[: settings.workers])
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.on_warm: Callable[[Worker, BaseException | None], None] | None = None
        """Set (by `clipforge serve`): each worker thread loads its model before it takes a
        job and reports here, so that the API listens while the model warms."""
        self.warm_after = threading.Event()
        """Set when loading may begin (serve: once the port listens, so that the import of
        torch does not hold the interpreter while the server starts)."""
        self.warm_after.set()

    def warm_up(self) -> None:
        """Load every worker's model now, so the first job does not pay for it."""
        for worker in self.workers:
            worker.warm.warm_up()

    def start(self) -> None:
        recover_orphans(self.store, self.settings.data_dir)
        for worker in self.workers:
            thread = threading.Thread(
                target=self._run, args=(worker,), name=worker.worker_id, daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _run(self, worker: Worker) -> None:
        if self.on_warm is not None:
            self.warm_after.wait()
            try:
                worker.warm.warm_up()
            except Exception as exc:  # told to on_warm, which decides
                self.on_warm(worker, exc)
                return
            self.on_warm(worker, None)
        worker.run(self._stop)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        for worker in self.workers:
            worker.close()
