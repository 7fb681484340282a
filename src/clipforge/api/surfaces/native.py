"""ClipForge's own endpoints: models, health, and jobs with progress (history, cancel, events).

`GET /v1/jobs/{id}/events` is a server-sent event stream: one `job` event (the same JSON as
`GET /v1/jobs/{id}`) each time the status, the step or the queue position changes, ending
after a terminal status (or after 30 s: reconnect to go on). It takes the key in the
`Authorization` header like every other endpoint; the studio reads it with fetch() streaming
(EventSource cannot send headers), so that a key never appears in a URL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from clipforge import __version__
from clipforge.api.accept.fields import QueryInt
from clipforge.api.accept.idempotency import IdempotencyHeader
from clipforge.api.deps import Authorized, CallerDep, JobsDep, Services, ServicesDep
from clipforge.api.http.error_bodies import AIML_ERRORS
from clipforge.api.http.json_body import StrictJsonRoute
from clipforge.api.surfaces.aimlapi import CreateVideoBody, create_from
from clipforge.errors import InvalidField, ModelNotFound
from clipforge.files.base import still_key
from clipforge.routing import ServedModel
from clipforge.schemas import GenerationRequest, Job, JobStatus
from clipforge.store.tenant import TenantJobs

router = APIRouter(tags=["ClipForge"], responses=AIML_ERRORS, route_class=StrictJsonRoute)
NATIVE_JOBS_PATH = "/v1/jobs"
MAX_OFFSET = 10_000_000
"""Deepest page offset: beyond any real history, and within every database's integers."""

EVENTS_POLL_SECONDS = 0.25
"""How often an event stream looks at its job (one inline SQLite read, about 0.1 ms)."""
EVENTS_KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies from closing a quiet stream."""
EVENTS_MAX_SECONDS = 30.0
"""A stream ends after this long even if its job has not (the client reconnects): uvicorn's
graceful shutdown waits for open responses, so an endless stream would hold up a restart."""
TERMINAL = {status.value for status in JobStatus if status.is_terminal}
STARTED = int(time.time())
"""`created` of every model (what the openai SDK's model objects carry): this process's start."""


class ModelOut(BaseModel):
    """A served model id, in the OpenAI models list shape, with ClipForge's own fields."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "clipforge"
    backend: str
    weights: str | None
    image_input: bool
    """An image-to-video id: `image_url` (the first frame) is required."""
    last_frame: bool
    """Also takes `last_image_url`."""
    max_duration: int
    """The longest clip in seconds: what the id allows, within what its backend renders (in
    one pass, or in segments from the last frame where it takes images)."""
    single_pass: int
    """The longest clip the backend renders in one pass."""
    durations: list[int]
    resolutions: list[str]
    default_resolution: str
    sound: bool
    """`generate_audio` defaults to true (the id makes sound and so does its backend)."""
    reference_images: int
    """How many `image_urls` it takes (0: none)."""
    reference_weights: str | None = None
    """The weights a request with reference images renders with, where they are not `weights`
    (Wan VACE under CLIPFORGE_MODEL=catalogue); null: `weights`."""


class ModelList(BaseModel):
    """`GET /v1/models` as the openai SDK's `models.list()` reads it."""

    object: Literal["list"] = "list"
    data: list[ModelOut]


class Progress(BaseModel):
    step: int
    total: int


class JobOut(BaseModel):
    id: str
    status: str
    request: GenerationRequest
    progress: Progress
    phase: str | None
    """queued and finished: null; running: loading, denoising, encoding or uploading."""
    queue_position: int | None
    """Jobs ahead of this one in the queue (0: next); null unless queued."""
    eta_seconds: float | None
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    video_url: str | None
    poster_url: str | None
    """A small still of the clip (WebP), for a gallery."""
    video_expired: bool
    """True once retention removed the video (then `video_url` is null)."""
    error: dict[str, str] | None
    backend: str | None
    timings: dict[str, float]
    worker_crashes: int
    """Attempts that ended because their worker died or stopped responding."""
    reading: dict[str, object]
    """What the model made of the request, once a worker has it: `prompt` (the prompt it
    used), `negative_prompt`, and for the built-in model `attributes` and `unused_words`."""


class JobList(BaseModel):
    """A page of jobs, newest first."""

    data: list[JobOut]
    limit: int
    offset: int
    has_more: bool


class Health(BaseModel):
    status: str
    version: str


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get("/v1/models", dependencies=[Authorized], summary="Model ids served here")
async def list_models(services: ServicesDep) -> ModelList:
    return ModelList(data=[model_out(model) for model in services.models])


@router.get(
    "/v1/models/{name:path}", dependencies=[Authorized], summary="One served model (or alias)"
)
async def get_model(name: str, services: ServicesDep) -> ModelOut:
    """A served id, or a name the routing maps to one (`sora-2`): the served model it means."""
    try:
        return model_out(services.models.resolve(name))
    except InvalidField:
        raise ModelNotFound(name) from None


def model_out(model: ServedModel) -> ModelOut:
    """A served id as `GET /v1/models` shows it: its row of the table within its backend."""
    spec = model.spec
    return ModelOut(
        id=model.id,
        created=STARTED,
        backend=model.backend,
        weights=model.weights,
        image_input=model.image_input,
        last_frame=model.last_frame,
        max_duration=min(model.capabilities.longest, spec.durations[-1]),
        single_pass=model.capabilities.max_duration,
        durations=list(spec.durations),
        resolutions=[resolution.value for resolution in spec.resolutions],
        default_resolution=spec.default_resolution.value,
        sound=model.audio,
        reference_images=model.references,
        reference_weights=model.with_references().weights if model.references else None,
    )


@router.get("/v1/jobs", dependencies=[Authorized], summary="Job history, newest first")
async def list_jobs(
    services: ServicesDep,
    jobs: JobsDep,
    limit: Annotated[QueryInt, Query(ge=1, le=100)] = 20,
    offset: Annotated[QueryInt, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JobList:
    return await services.call(job_page, jobs, services, limit, offset)


@router.post(NATIVE_JOBS_PATH, status_code=201, summary="Create a job (the AI/ML body)")
async def create_job_native(
    body: CreateVideoBody,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> JobOut:
    job = await create_from(body, services, caller, jobs, key, NATIVE_JOBS_PATH, "native")
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


def job_page(jobs: TenantJobs, services: Services, limit: int, offset: int) -> JobList:
    found = jobs.page(limit + 1, offset)
    data = [to_job_out(job, jobs, services) for job in found[:limit]]
    return JobList(data=data, limit=limit, offset=offset, has_more=len(found) > limit)


def job_view(job_id: str, jobs: TenantJobs, services: Services) -> JobOut:
    """A job with its progress and queue position (ClipForge's own shape)."""
    return to_job_out(jobs.get(job_id), jobs, services)


def to_job_out(job: Job, jobs: TenantJobs, services: Services) -> JobOut:
    error = None
    if job.error_name:
        error = {"name": job.error_name, "message": job.error_message or ""}
    queued = job.status is JobStatus.QUEUED
    expired = job.purged_at is not None
    return JobOut(
        id=job.id,
        status=job.status.value,
        request=job.request,
        progress=Progress(step=job.progress_step, total=job.progress_total),
        phase=job.phase if job.status is JobStatus.GENERATING else None,
        queue_position=jobs.queue_position(job) if queued else None,
        eta_seconds=eta_seconds(job, time.time()),
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        video_url=services.storage.url(job.video_key) if job.video_key and not expired else None,
        poster_url=(
            services.storage.url(still_key(job.id, "poster"))
            if "poster" in job.stills and not expired
            else None
        ),
        video_expired=expired,
        error=error,
        backend=job.backend,
        timings=job.timings,
        worker_crashes=job.worker_crashes,
        reading=job.reading,
    )


def eta_seconds(job: Job, now: float) -> float | None:
    """Seconds left while generating, the whole job: the denoising steps left, extrapolated
    linearly from those done since denoising began, plus the worker's estimate of what comes
    after (decoding, encoding, uploading: `expected_tail_s`, from its last job); from
    decoding on, what is left of the estimate the worker gave when the phase began. None
    while loading and before the first step."""
    if job.status is not JobStatus.GENERATING:
        return None
    tail = job.expected_tail_s or 0.0
    since = max(0.0, now - (job.phase_started_at or job.started_at or now))
    if job.phase in ("decoding", "encoding", "uploading"):
        return round(max(0.0, tail - since), 1)
    step, total = job.progress_step, job.progress_total
    if job.phase == "loading" or step <= 0:
        return None
    return round(since * max(0, total - step) / step + tail, 1)
