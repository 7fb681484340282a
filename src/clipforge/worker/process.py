"""`clipforge worker`: one process per device, taking the jobs of its models through
procrastinate, on any machine that reaches the PostgreSQL database and the object store.

The process loads its model first, then listens on one procrastinate queue per model it
serves. Each task names a job; the worker claims the row whose turn it is on that job's model
(fair share between keys: `ProcrastinateQueue.claim_turn`, fenced), runs it with the
same `Worker` as the embedded engine (heartbeat, progress, cooperative cancellation through
the store), and a sweeper thread runs the queue's `recover_stalled` every heartbeat.
SIGTERM or SIGINT stops it after the running job (procrastinate's graceful shutdown).

Beside the jobs it runs what `sidecars` build (the command line passes the callback sender,
`wiring.callback_sender`: notifications wait in the database and every API replica and worker
leases them from there, so an API that sends none, or is down, loses none).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from clipforge.files.base import Storage
from clipforge.files.factory import build_storage
from clipforge.files.health import StorageHealth
from clipforge.logs import log_fields
from clipforge.metrics import Metrics
from clipforge.queue import queue_name
from clipforge.queue.procrastinate_queue import TASK, ProcrastinateQueue, make_app
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from clipforge.store import is_postgres_url
from clipforge.store.postgres import PostgresJobStore
from clipforge.worker.identity import local_worker_id
from clipforge.worker.metrics_port import MetricsPort
from clipforge.worker.runner import Worker
from clipforge.worker.scratch import recover_orphans

log = logging.getLogger(__name__)


class Sidecar(Protocol):
    """Something the worker process runs beside its jobs while it lives."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


SidecarFactory = Callable[
    [Settings, PostgresJobStore, Storage, ModelRouting, Metrics], Sidecar | None
]
"""Builds a sidecar from the worker's parts (None: not wanted under these settings)."""


def run_worker_process(
    settings: Settings,
    models: Sequence[str] = (),
    metrics_at: tuple[str, int] | None = None,
    sidecars: Sequence[SidecarFactory] = (),
) -> int:
    """Serve `models` (default: every served id) until stopped; returns the exit code (2: a
    configuration problem). `metrics_at` (host, port): serve the jobs' metrics there;
    `sidecars` run beside the jobs."""
    url = settings.resolved_database_url
    if not is_postgres_url(url):
        log.error("clipforge worker needs CLIPFORGE_DATABASE_URL=postgresql://...; got %s", url)
        return 2
    store = PostgresJobStore(url, max_attempts=settings.max_attempts, pool_size=4)
    queue = ProcrastinateQueue(
        store, lease_seconds=settings.lease_seconds, stalled_after=settings.lease_seconds
    )
    served = ModelRouting(settings)
    routing = served.for_workers(models)
    storage = build_storage(settings)
    worker = Worker(store, storage, routing, settings, local_worker_id(0))
    metrics = Metrics()
    metrics.watch_storage(worker.health)
    store.on_finished = metrics.job_finished
    metrics.expect(routing.model_ids)
    port: MetricsPort | None = None
    started: list[Sidecar] = []
    try:
        for make in sidecars:
            sidecar = make(settings, store, storage, served, metrics)
            if sidecar is not None:
                sidecar.start()
                started.append(sidecar)
        if metrics_at is not None:
            host, number = metrics_at
            port = MetricsPort(metrics, host, number, settings.metrics_token)
            log.info("metrics on http://%s:%d/metrics", host, number)
        worker.warm.warm_up()
        recover_orphans(store, settings.data_dir)
        with worker.present():
            _serve(settings, queue, worker, routing.model_ids)
    finally:
        for sidecar in started:
            sidecar.stop()
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
            if not _storage_ready(worker.health, settings.lease_seconds):
                log.info("job %s: storage unavailable; left queued for a later task", job_id)
                return
            claim = queue.claim_turn(job_id, worker.worker_id)
            if claim is None:
                log.info("task for job %s: nothing claimable on its model; task done", job_id)
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


def _storage_ready(health: StorageHealth, within: float) -> bool:
    """Wait (probing) up to `within` seconds for storage to take writes again; the task
    then claims its job, or leaves it queued for the sweeper to give it a task later."""
    deadline = time.monotonic() + within
    while (wait := health.wait_before_claim()) > 0:
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
    return True


def _sweep(queue: ProcrastinateQueue, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            queue.recover_stalled()
        except Exception:
            log.exception("recovering stalled jobs failed; retrying")
