"""What operators' tools call, without an API key: `/readyz` (may this process take traffic?)
and `/metrics` (Prometheus). `/healthz`, liveness only, is in `api/surfaces/native/routes.py`.

Both run in the thread pool (sync routes): readiness reads the database and writes a probe
file, and the metrics read the queue and the workers from the database.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from clipforge.api.deps import Services, ServicesDep
from clipforge.api.http.errors import without_server_paths
from clipforge.errors import AuthenticationFailed
from clipforge.files.faults import as_storage_fault, scrub_paths
from clipforge.files.health import probe_storage
from clipforge.metrics import CONTENT_TYPE, scrape_allowed
from clipforge.store.presence import WorkerPresence

router = APIRouter(tags=["Operations"])
metrics_router = APIRouter(tags=["Operations"])
"""/metrics, left out with CLIPFORGE_METRICS=false."""

PROBE_SECONDS = 2.0
_PROBES = ThreadPoolExecutor(4, thread_name_prefix="readyz")
"""Where the checks run, so that one stuck on a dead database cannot hold the probe."""


@router.get(
    "/readyz",
    summary="Readiness: the database answers, storage is writable, a worker is alive",
    responses={503: {"description": "Not ready; `problems` says why."}},
)
def readyz(services: ServicesDep) -> JSONResponse:
    found, warnings = readiness(services)
    problems = [without_server_paths(problem) for problem in found]
    body: dict[str, object] = {"problems": problems}
    if warnings:  # degraded, still serving: a LoRA adapter that failed to load
        body["warnings"] = [without_server_paths(warning) for warning in warnings]
    if problems:
        return JSONResponse({"status": "not ready", **body}, status_code=503)
    return JSONResponse({"status": "ready", **body})


def readiness_problems(services: Services) -> list[str]:
    """Why this process should not take traffic now (empty: it should)."""
    return readiness(services)[0]


def adapter_warnings(workers: list[WorkerPresence]) -> list[str]:
    """One line per LoRA adapter a live worker could not load (the worker serves the rest)."""
    return [
        f"worker {worker.worker_id}: LoRA adapter {name!r} of {worker.model} failed to load: {why}"
        for worker in workers
        for name, why in sorted(worker.failed_adapters.items())
    ]


def readiness(services: Services) -> tuple[list[str], list[str]]:
    """Why this process should not take traffic now (empty: it should), and what works in
    part (failed adapters). Each check gets PROBE_SECONDS: a database that is down makes a
    connection pool wait far longer."""
    settings = services.settings
    problems = []
    since = time.time() - settings.lease_seconds
    database = _PROBES.submit(services.store.workers_seen_since, since)
    storage = _PROBES.submit(probe_storage, services.storage)
    workers = None
    try:
        workers = database.result(timeout=PROBE_SECONDS)
    except Exception as exc:
        problems.append(f"database: {_short(exc, settings.data_dir)}")
    try:
        storage.result(timeout=PROBE_SECONDS)
    except Exception as exc:
        problems.append(f"storage: {_short(exc, settings.data_dir)}")
    paused = services.storage_health.unhealthy_for() if services.storage_health else None
    if paused is not None:
        problems.append(
            f"workers paused for {paused:.0f} s: storage unavailable; jobs wait in the queue"
        )
    if settings.ready_needs_worker and workers is not None and not workers:
        problems.append(
            f"no worker reported itself in the last {settings.lease_seconds:g} s "
            "(CLIPFORGE_READY_NEEDS_WORKER=false for an API that may run without one)"
        )
    return problems, adapter_warnings(workers or [])


@metrics_router.get("/metrics", summary="Prometheus metrics (text format)", response_class=Response)
def metrics(request: Request, services: ServicesDep) -> Response:
    if not scrape_allowed(
        services.settings.metrics_token, request.headers.get("authorization", "")
    ):
        raise AuthenticationFailed(
            "/metrics wants `Authorization: Bearer <CLIPFORGE_METRICS_TOKEN>`"
        )
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE)


def _short(exc: Exception, data_dir: Path) -> str:
    """One line on a failed check, without server paths (`/readyz` wants no key)."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {PROBE_SECONDS:g} s"
    if (fault := as_storage_fault(exc)) is not None:
        return fault.reason
    text = scrub_paths(" ".join(str(exc).split()), data_dir)
    return f"{type(exc).__name__}: {text[:200]}"
