"""Prometheus metrics of one process, with the `prometheus-client` library.

Each process has one `Metrics` (its own registry): the API's counts what its requests, its
in-process workers and its sweeps did; each `clipforge worker` counts the jobs it ran and
serves them on `--metrics-port`. Prometheus adds the processes up.

What the database knows (the queue per model, the workers that reported themselves) is read
at scrape time by `StoreCollector`, so every API replica reports the same numbers: aggregate
those gauges with `max`, never `sum` (docs/DEPLOY.md, "Monitoring").

Labels stay bounded: route templates, never raw paths; model ids the API validated against
the served set; error names from the code; no job ids and no keys.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from clipforge.files.health import StorageHealth
from clipforge.schemas import SURFACES, Job, JobStatus
from clipforge.store.filters import EXPIRED
from clipforge.store.operations import OperationsStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

JOB_SECONDS_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)
STEP_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
HTTP_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def scrape_allowed(token: str | None, authorization: str) -> bool:
    """Whether a scrape that sent this Authorization header may read the metrics: always
    without a token (`CLIPFORGE_METRICS_TOKEN` unset), else only with `Bearer <token>`."""
    if token is None:
        return True
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())


PHASE_TIMINGS = {
    "load": "load_s",
    "denoise": "denoise_s",
    "decode": "decode_s",
    "encode": "encode_s",
}
"""Histogram phase -> the worker's timing key (decode: from the last step until frames reach
the encoder; streamed frames decode inside encode)."""


class Metrics:
    """The instruments of one process, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.jobs_created = Counter(
            "clipforge_jobs_created",
            "Jobs created, by API surface and model.",
            ["surface", "model"],
            registry=registry,
        )
        self.jobs_finished = Counter(
            "clipforge_jobs_finished",
            "Jobs this process ended, by the surface that created them, model and outcome "
            "(completed, error, cancelled, expired); `error` names the error of an outcome "
            "error.",
            ["surface", "model", "outcome", "error"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "clipforge_job_seconds",
            "Seconds per phase of a completed job: queue_wait, load, denoise, encode (the "
            "decode streams into it), upload, and total from creation to completion.",
            ["model", "resolution", "phase"],
            buckets=JOB_SECONDS_BUCKETS,
            registry=registry,
        )
        self.step_seconds = Histogram(
            "clipforge_denoise_step_seconds",
            "Seconds per denoising step of a completed job.",
            ["model"],
            buckets=STEP_SECONDS_BUCKETS,
            registry=registry,
        )
        self.http_requests = Counter(
            "clipforge_http_requests",
            "HTTP requests, by route template, method and status code.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_seconds = Histogram(
            "clipforge_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its response, by route template, "
            "method and status code.",
            ["route", "method", "status"],
            buckets=HTTP_SECONDS_BUCKETS,
            registry=registry,
        )
        self.auth_failures = Counter(
            "clipforge_auth_failures",
            "Requests refused for a missing or bad key.",
            [],
            registry=registry,
        )
        self.rate_limited = Counter(
            "clipforge_rate_limited",
            "Requests refused by a limit: queue (queued jobs per key), rate (requests per "
            "minute per key), auth_throttle (failed keys per address).",
            ["limit"],
            registry=registry,
        )

    def expect(self, models: Iterable[str]) -> None:
        """Start each model's outcome series at 0, so that the first job that ends shows as
        an increase (Prometheus' `increase` misses a series' first sample)."""
        for surface in SURFACES:
            for model in models:
                for outcome in ("completed", "cancelled", "expired"):
                    self.jobs_finished.labels(surface, model, outcome, "")

    def job_created(self, surface: str, job: Job) -> None:
        self.jobs_created.labels(surface, job.request.model).inc()

    def job_finished(self, job: Job) -> None:
        """Count a job this process ended; a completed one also feeds the histograms."""
        if job.status is JobStatus.COMPLETED:
            outcome, error = "completed", ""
            self._observe(job)
        elif job.status is JobStatus.CANCELLED:
            outcome, error = "cancelled", ""
        elif job.error_name == EXPIRED:
            outcome, error = "expired", ""
        else:
            outcome, error = "error", job.error_name or ""
        self.jobs_finished.labels(job.surface, job.request.model, outcome, error).inc()

    def _observe(self, job: Job) -> None:
        model, resolution = job.request.model, job.request.resolution.value
        seconds: dict[str, float] = {
            phase: float(job.timings[key])
            for phase, key in PHASE_TIMINGS.items()
            if key in job.timings
        }
        if "upload_s" in job.timings:
            seconds["upload"] = float(job.timings["upload_s"])
        if "queue_wait_s" in job.timings:
            seconds["queue_wait"] = float(job.timings["queue_wait_s"])
        if job.finished_at is not None:
            seconds["total"] = job.finished_at - job.created_at
        for phase, value in seconds.items():
            self.job_seconds.labels(model, resolution, phase).observe(max(0.0, value))
        if job.progress_total and "denoise_s" in job.timings:
            step = float(job.timings["denoise_s"]) / job.progress_total
            self.step_seconds.labels(model).observe(step)

    def watch(self, store: OperationsStore, lease_seconds: float, models: Iterable[str]) -> None:
        """Report the database's view (queue, workers) at every scrape; each served model
        shows a queue, 0 when empty."""
        self.registry.register(StoreCollector(store, lease_seconds, tuple(models)))

    def watch_callbacks(self, counts: Callable[[], Mapping[str, int]]) -> None:
        """Report the callback dispatcher's delivery counts at every scrape."""
        self.registry.register(CallbackCollector(counts))

    def watch_storage(self, health: StorageHealth) -> None:
        """Report whether this process's workers find storage healthy, at every scrape."""
        self.registry.register(StorageCollector(health))

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (reads the database: not on a loop)."""
        return generate_latest(self.registry)


class CallbackCollector(Collector):
    """`clipforge_callbacks_total{outcome}` from the dispatcher's own counts: delivered,
    failed (given up on: never acknowledged, or undelivered for a day), paused (a receiver
    paused after failing again and again)."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "clipforge_callbacks", "Callback notifications by outcome.", labels=["outcome"]
        )
        for outcome, count in self.counts().items():
            family.add_metric([outcome], count)
        yield family


class StorageCollector(Collector):
    """`clipforge_storage_healthy` (0 while this process's workers pause for a storage
    fault), `clipforge_storage_faults_total` and `clipforge_jobs_given_back_total` (jobs put
    back in the queue, uncounted, because storage failed under them)."""

    def __init__(self, health: StorageHealth) -> None:
        self.health = health

    def collect(self) -> Iterable[Metric]:
        health = self.health
        healthy = GaugeMetricFamily(
            "clipforge_storage_healthy",
            "1 while storage takes this process's writes; 0 while its workers pause claiming.",
        )
        healthy.add_metric([], int(health.healthy))
        faults = CounterMetricFamily(
            "clipforge_storage_faults", "Storage or scratch faults (infrastructure errors)."
        )
        faults.add_metric([], health.faults)
        given_back = CounterMetricFamily(
            "clipforge_jobs_given_back", "Jobs given back to the queue for a storage fault."
        )
        given_back.add_metric([], health.given_back)
        yield from (healthy, faults, given_back)


class StoreCollector(Collector):
    """The queue per model and the live workers, read from the database at each scrape."""

    def __init__(
        self,
        store: OperationsStore,
        lease_seconds: float,
        models: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.models = models
        self.clock = clock

    def collect(self) -> Iterable[Metric]:
        now = self.clock()
        depth = GaugeMetricFamily(
            "clipforge_queue_depth",
            "Queued jobs per model (the database's count).",
            labels=["model"],
        )
        oldest = GaugeMetricFamily(
            "clipforge_queue_oldest_age_seconds",
            "Age of the oldest queued job per model.",
            labels=["model"],
        )
        queued = {shape.model: shape for shape in self.store.queue_shape()}
        for model in sorted(set(self.models) | set(queued)):
            shape = queued.get(model)
            depth.add_metric([model], shape.depth if shape else 0)
            oldest.add_metric([model], max(0.0, now - shape.oldest_created_at) if shape else 0.0)
        yield depth
        yield oldest
        yield from self._workers(now)

    def _workers(self, now: float) -> Iterable[Metric]:
        workers = self.store.workers_seen_since(now - self.lease_seconds)
        alive = GaugeMetricFamily(
            "clipforge_workers_alive", "Workers that reported themselves within a lease."
        )
        alive.add_metric([], len(workers))
        busy = GaugeMetricFamily(
            "clipforge_worker_busy", "1 while the worker runs a job, 0 idle.", labels=["worker"]
        )
        warm = GaugeMetricFamily(
            "clipforge_worker_warm_model",
            "1 for the model each worker holds loaded.",
            labels=["worker", "model"],
        )
        memory = GaugeMetricFamily(
            "clipforge_worker_device_memory_bytes",
            "Device memory a worker holds (CUDA): in_use now, peak since it started.",
            labels=["worker", "kind"],
        )
        for worker in workers:
            busy.add_metric([worker.worker_id], int(worker.busy))
            if worker.model is not None:
                warm.add_metric([worker.worker_id, worker.model], 1)
            kinds: Mapping[str, int | None] = {
                "in_use": worker.memory_in_use,
                "peak": worker.memory_peak,
            }
            for kind, value in kinds.items():
                if value is not None:
                    memory.add_metric([worker.worker_id, kind], value)
        yield from (alive, busy, warm, memory)
