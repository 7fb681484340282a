"""`GET /v1/jobs/{id}/events`: the job as server-sent events until it ends (module docstring
of `routes`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from clipforge.api.deps import Services
from clipforge.api.surfaces.native.models import JobOut
from clipforge.api.surfaces.native.views import job_view
from clipforge.schemas import JobStatus
from clipforge.store.tenant import TenantJobs

EVENTS_POLL_SECONDS = 0.25
"""How often an event stream looks at its job (one inline SQLite read, about 0.1 ms)."""
EVENTS_KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies from closing a quiet stream."""
EVENTS_MAX_SECONDS = 30.0
"""A stream ends after this long even if its job has not (the client reconnects): uvicorn's
graceful shutdown waits for open responses, so an endless stream would hold up a restart."""
TERMINAL = {status.value for status in JobStatus if status.is_terminal}


async def event_stream(
    job: JobOut,
    jobs: TenantJobs,
    services: Services,
    interval: float = EVENTS_POLL_SECONDS,
    max_seconds: float = EVENTS_MAX_SECONDS,
) -> AsyncIterator[str]:
    """Yield `job` events until the job ends (or `max_seconds` pass); never blocks the loop."""
    last_key: tuple[object, ...] | None = None
    started = quiet_since = time.monotonic()
    yield "retry: 1000\n\n"  # an EventSource reconnects after 1 s when the stream ends
    while True:
        key = (job.status, job.phase, job.progress.step, job.progress.total, job.queue_position)
        if key != last_key:
            yield f"event: job\ndata: {job.model_dump_json()}\n\n"
            last_key, quiet_since = key, time.monotonic()
        elif time.monotonic() - quiet_since > EVENTS_KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        if job.status in TERMINAL or time.monotonic() - started > max_seconds:
            return
        await asyncio.sleep(interval)
        job = await services.call(job_view, job.id, jobs, services)
