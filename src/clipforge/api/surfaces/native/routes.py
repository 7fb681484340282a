"""ClipForge's own endpoints: models, health, and jobs with progress (history, cancel, events).

`GET /v1/jobs/{id}/events` is a server-sent event stream: one `job` event (the same JSON as
`GET /v1/jobs/{id}`) each time the status, the step or the queue position changes, ending
after a terminal status (or after 30 s: reconnect to go on). It takes the key in the
`Authorization` header like every other endpoint; the studio reads it with fetch() streaming
(EventSource cannot send headers), so that a key never appears in a URL.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from clipforge import __version__
from clipforge.api.accept.bodies import json_or_form, parsed
from clipforge.api.accept.fields import QueryInt
from clipforge.api.accept.idempotency import IdempotencyHeader
from clipforge.api.deps import Authorized, CallerDep, JobsDep, Services, ServicesDep
from clipforge.api.http.error_bodies import AIML_ERRORS
from clipforge.api.http.json_body import StrictJsonRoute
from clipforge.api.surfaces.aimlapi import CreateVideoBody, create_from
from clipforge.api.surfaces.native.events import event_stream
from clipforge.api.surfaces.native.models import Health, JobList, JobOut, ModelList, ModelOut
from clipforge.api.surfaces.native.views import job_page, job_view, model_out, to_job_out
from clipforge.errors import InvalidField, ModelNotFound
from clipforge.store.presence import WorkerPresence

router = APIRouter(tags=["ClipForge"], responses=AIML_ERRORS, route_class=StrictJsonRoute)
NATIVE_JOBS_PATH = "/v1/jobs"
IMAGE_FILES = {"image_url": "image_url", "last_image_url": "last_image_url"}
"""A create form's file parts: each is the image of the body field of its name."""
MAX_OFFSET = 10_000_000
"""Deepest page offset: beyond any real history, and within every database's integers."""


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get("/v1/models", dependencies=[Authorized], summary="Model ids served here")
async def list_models(services: ServicesDep) -> ModelList:
    workers = await _live_workers(services)
    return ModelList(data=[model_out(model, workers) for model in services.models])


@router.get(
    "/v1/models/{name:path}", dependencies=[Authorized], summary="One served model (or alias)"
)
async def get_model(name: str, services: ServicesDep) -> ModelOut:
    """A served id, or a name the routing maps to one (`sora-2`): the served model it means."""
    try:
        model = services.models.resolve(name)
    except InvalidField:
        raise ModelNotFound(name) from None
    return model_out(model, await _live_workers(services))


async def _live_workers(services: Services) -> list[WorkerPresence]:
    """The workers seen within a lease, for their adapters ([] when no model has any)."""
    if not any(model.adapters for model in services.models):
        return []
    since = time.time() - services.settings.lease_seconds
    return await services.call(services.store.workers_seen_since, since)


@router.get("/v1/jobs", dependencies=[Authorized], summary="Job history, newest first")
async def list_jobs(
    services: ServicesDep,
    jobs: JobsDep,
    limit: Annotated[QueryInt, Query(ge=1, le=100)] = 20,
    offset: Annotated[QueryInt, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JobList:
    return await services.call(job_page, jobs, services, limit, offset)


@router.post(
    NATIVE_JOBS_PATH,
    status_code=201,
    summary="Create a job (the AI/ML body, as JSON or a form with image files)",
    openapi_extra=json_or_form(CreateVideoBody),
)
async def create_job_native(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> JobOut:
    """The AI/ML create body as JSON, or as a form whose `image_url` and `last_image_url` may
    be file parts: the image's bytes as they are, no base64 (what the SDK and CLI send)."""
    body, uploads = await parsed(request, CreateVideoBody, IMAGE_FILES)
    job = await create_from(body, services, caller, jobs, key, NATIVE_JOBS_PATH, "native", uploads)
    return await services.call(to_job_out, job, jobs, services)


@router.get("/v1/jobs/{job_id}", dependencies=[Authorized], summary="A job with its progress")
async def get_job(job_id: str, services: ServicesDep, jobs: JobsDep) -> JobOut:
    return await services.call(job_view, job_id, jobs, services)


@router.post("/v1/jobs/{job_id}/cancel", dependencies=[Authorized], summary="Cancel a job")
async def cancel_job(job_id: str, services: ServicesDep, jobs: JobsDep) -> JobOut:
    """Queued or generating: cancelled. A finished job is returned as it is."""
    job = await services.call(jobs.cancel, job_id)
    return await services.call(to_job_out, job, jobs, services)


@router.get(
    "/v1/jobs/{job_id}/events",
    dependencies=[Authorized],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Server-sent events: the job each time its status or progress changes",
)
async def job_events(job_id: str, services: ServicesDep, jobs: JobsDep) -> StreamingResponse:
    first = await services.call(job_view, job_id, jobs, services)  # a 404 comes first
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        event_stream(first, jobs, services), media_type="text/event-stream", headers=headers
    )
