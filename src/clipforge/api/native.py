"""ClipForge's own endpoints: models, health, and a job view with progress for the CLI."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from clipforge import __version__
from clipforge.api.deps import Authorized, Services, ServicesDep
from clipforge.errors import JobNotFound
from clipforge.schemas import GenerationRequest

router = APIRouter(tags=["ClipForge"])


class ModelOut(BaseModel):
    id: str
    backend: str
    weights: str | None
    image_input: bool


class ModelList(BaseModel):
    data: list[ModelOut]


class Progress(BaseModel):
    step: int
    total: int


class JobOut(BaseModel):
    id: str
    status: str
    request: GenerationRequest
    progress: Progress
    queue_position: int | None
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    video_url: str | None
    error: dict[str, str] | None
    backend: str | None
    timings: dict[str, float]


class Health(BaseModel):
    status: str
    version: str


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get("/v1/models", dependencies=[Authorized], summary="Model ids served here")
async def list_models(services: ServicesDep) -> ModelList:
    return ModelList(data=[ModelOut(**vars(model)) for model in services.catalog])


@router.get("/v1/jobs/{job_id}", dependencies=[Authorized], summary="A job with its progress")
async def get_job(job_id: str, services: ServicesDep) -> JobOut:
    return await services.call(job_view, job_id, services)


def job_view(job_id: str, services: Services) -> JobOut:
    """A job with its progress and queue position (ClipForge's own shape)."""
    job = services.store.get(job_id)
    if job is None:
        raise JobNotFound(job_id)
    error = None
    if job.error_name:
        error = {"name": job.error_name, "message": job.error_message or ""}
    return JobOut(
        id=job.id,
        status=job.status.value,
        request=job.request,
        progress=Progress(step=job.progress_step, total=job.progress_total),
        queue_position=services.store.queue_position(job.id),
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        video_url=services.storage.url(job.video_key) if job.video_key else None,
        error=error,
        backend=job.backend,
        timings=job.timings,
    )
