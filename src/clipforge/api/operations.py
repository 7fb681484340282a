"""What operators' tools call, without an API key: `/readyz` (may this process take traffic?)
and `/metrics` (Prometheus). `/healthz`, liveness only, is in `native.py`.

Both run in the thread pool (sync routes): readiness reads the database and writes a probe
file, and the metrics read the queue and the workers from the database.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from clipforge.api.deps import Services, ServicesDep
from clipforge.api.errors import without_server_paths
from clipforge.errors import AuthenticationFailed
from clipforge.files.base import check_key
from clipforge.metrics import CONTENT_TYPE, scrape_allowed

router = APIRouter(tags=["Operations"])
metrics_router = APIRouter(tags=["Operations"])
"""/metrics, left out with CLIPFORGE_METRICS=false."""

PROBE = b"\x89PNG\r\n\x1a\n"
"""What the readiness probe writes to storage (and deletes again)."""
PROBE_SECONDS = 2.0
_PROBES = ThreadPoolExecutor(4, thread_name_prefix="readyz")
"""Where the checks run, so that one stuck on a dead database cannot hold the probe."""


@router.get(
    "/readyz",
    summary="Readiness: the database answers, storage is writable, a worker is alive",
    responses={503: {"description": "Not ready; `problems` says why."}},
)
def readyz(services: ServicesDep) -> JSONResponse:
    problems = [without_server_paths(problem) for problem in readiness_problems(services)]
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready", "problems": []})


def readiness_problems(services: Services) -> list[str]:
    """Why this process should not take traffic now (empty: it should). Each check gets
    PROBE_SECONDS: a database that is down makes a connection pool wait far longer."""
    settings = services.settings
    problems = []
    since = time.time() - settings.lease_seconds
    database = _PROBES.submit(services.store.workers_seen_since, since)
    storage = _PROBES.submit(_write_and_delete, services)
    workers = None
    try:
        workers = database.result(timeout=PROBE_SECONDS)
    except Exception as exc:
        problems.append(f"database: {_short(exc)}")
    try:
        storage.result(timeout=PROBE_SECONDS)
    except Exception as exc:
        problems.append(f"storage: {_short(exc)}")
    if settings.ready_needs_worker and workers is not None and not workers:
        problems.append(
            f"no worker reported itself in the last {settings.lease_seconds:g} s "
            "(CLIPFORGE_READY_NEEDS_WORKER=false for an API that may run without one)"
        )
    return problems


def _write_and_delete(services: Services) -> None:
    key = check_key(f"ready-{uuid.uuid4().hex}.png")
    services.storage.put_bytes(key, PROBE)
    services.storage.delete(key)


@metrics_router.get("/metrics", summary="Prometheus metrics (text format)", response_class=Response)
def metrics(request: Request, services: ServicesDep) -> Response:
    if not scrape_allowed(
        services.settings.metrics_token, request.headers.get("authorization", "")
    ):
        raise AuthenticationFailed(
            "/metrics wants `Authorization: Bearer <CLIPFORGE_METRICS_TOKEN>`"
        )
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE)


def _short(exc: Exception) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {PROBE_SECONDS:g} s"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"
