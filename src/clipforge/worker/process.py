"""`clipforge worker`: one process per device, taking the jobs of its models through
procrastinate, on any machine that reaches the PostgreSQL database and the object store.

The process loads its model first, then listens on one procrastinate queue per model it
serves. Each task names a job; the worker claims the job's row (fenced), runs it with the
same `Worker` as the embedded engine (heartbeat, progress, cooperative cancellation through
the store), and a sweeper thread runs the queue's `recover_stalled` every heartbeat.
SIGTERM or SIGINT stops it after the running job (procrastinate's graceful shutdown).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from clipforge.files.factory import build_storage
from clipforge.logs import log_fields
from clipforge.metrics import Metrics
from clipforge.queue import queue_name
from clipforge.queue.procrastinate_queue import TASK, ProcrastinateQueue, make_app
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from clipforge.store import is_postgres_url
from clipforge.store.postgres import PostgresJobStore
from clipforge.worker.identity import is_dead_local_worker, local_worker_id
from clipforge.worker.metrics_port import MetricsPort
from clipforge.worker.runner import Worker
from clipforge.worker.scratch import remove_orphaned_scratch

log = logging.getLogger(__name__)


def run_worker_process(
    settings: Settings, models: Sequence[str] = (), metrics_at: tuple[str, int] | None = None
) -> int:
    """Serve `models` (default: every served id) until stopped; returns the exit code (2: a
    configuration problem). `metrics_at` (host, port): serve the jobs' metrics there."""
    url = settings.resolved_database_url
    if not is_postgres_url(url):
        log.error("clipforge worker needs CLIPFORGE_DATABASE_URL=postgresql://...; got %s", url)
        return 2
    store = PostgresJobStore(url, max_attempts=settings.max_attempts, pool_size=4)
    queue = ProcrastinateQueue(
        store, lease_seconds=settings.lease_seconds, stalled_after=settings.lease_seconds
    )
    routing = ModelRouting(settings).for_workers(models)
    worker = Worker(store, build_storage(settings), routing, settings, local_worker_id(0))
    metrics = Metrics()
    store.on_finished = metrics.job_finished
    metrics.expect(routing.model_ids)
    port: MetricsPort | None = None
    try:
        if metrics_at is not None:
            host, number = metrics_at
            port = MetricsPort(metrics, host, number, settings.metrics_token)
            log.info("metrics on http://%s:%d/metrics", host, number)
        worker.warm.warm_up()
        _recover_local_orphans(store)
        remove_orphaned_scratch(settings.data_dir)
        with worker.present():
            _serve(settings, queue, worker, routing.model_ids)
    finally:
        if port is not None:
            port.close()
        worker.close()
        queue.close()
        store.close()
    return 0


def _serve(
    settings: Settings, queue: ProcrastinateQueue, worker: Worker, models: Sequence[str]
) -> None:
    app = make_app(settings.resolved_database_url)

    @app.task(name=TASK)
    def run_job(job_id: str) -> None:
        with log_fields(job_id=job_id, worker=worker.worker_id):
            claim = queue.claim(job_id, worker.worker_id)
            if claim is None:
                log.info("job %s: not claimable (finished, cancelled or held); task done", job_id)
                return
        worker.execute(claim)

    stop = threading.Event()
    sweeper = threading.Thread(
        target=_sweep, args=(queue, settings.heartbeat_seconds, stop), name="sweeper", daemon=True
    )
    sweeper.start()
    log.info("worker %s serving %s", worker.worker_id, ", ".join(models))
    try:
        app.run_worker(
            queues=[queue_name(model) for model in models],
            name=worker.worker_id,
            concurrency=1,
            wait=True,
            delete_jobs="successful",
            fetch_job_polling_interval=1.0,
            abort_job_polling_interval=1.0,
            update_heartbeat_interval=settings.heartbeat_seconds,
            stalled_worker_timeout=settings.lease_seconds,
        )
    finally:
        stop.set()
        sweeper.join(5)


def _sweep(queue: ProcrastinateQueue, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            queue.recover_stalled()
        except Exception:
            log.exception("recovering stalled jobs failed; retrying")


def _recover_local_orphans(store: PostgresJobStore) -> None:
    """Requeue jobs left running by a process of this host that died (a restart after a
    crash): faster than waiting for their leases."""
    dead = [w for w in store.running_worker_ids() if is_dead_local_worker(w)]
    if dead and (count := store.recover(dead)):
        log.warning("requeued %d job(s) left running by a process that died", count)
