"""The in-process workers of `clipforge serve`: one thread per device, each with a warm model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from clipforge.backends.base import Backend
from clipforge.files.base import Storage
from clipforge.routing import WeightsRouting
from clipforge.settings import Settings
from clipforge.store.base import JobStore
from clipforge.worker.identity import is_dead_local_worker, local_worker_id
from clipforge.worker.runner import Worker
from clipforge.worker.scratch import remove_orphaned_scratch

log = logging.getLogger(__name__)


class WorkerPool:
    """Starts `settings.workers` worker threads and requeues jobs orphaned by a crash."""

    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        load_backend: Callable[[], Backend] | WeightsRouting,
        settings: Settings,
    ) -> None:
        self.store = store
        self.settings = settings
        self.workers = [
            Worker(store, storage, load_backend, settings, local_worker_id(index))
            for index in range(settings.workers)
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

    def recover_orphans(self) -> int:
        """Requeue jobs whose worker on this host died (a crash or SIGKILL before restart)."""
        dead = [w for w in self.store.running_worker_ids() if is_dead_local_worker(w)]
        count = self.store.recover(dead) if dead else 0
        if count:
            log.warning("requeued %d job(s) left running by a process that died", count)
        return count

    def warm_up(self) -> None:
        """Load every worker's model now, so the first job does not pay for it."""
        for worker in self.workers:
            worker.warm.warm_up()

    def start(self) -> None:
        self.recover_orphans()
        remove_orphaned_scratch(self.settings.data_dir)
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
