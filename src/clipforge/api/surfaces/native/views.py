"""Served models and jobs as the native surface shows them (`GET /v1/models`, `GET /v1/jobs`),
with a running job's time left."""

from __future__ import annotations

import time

from clipforge.api.deps import Services
from clipforge.api.http.errors import without_server_paths
from clipforge.api.surfaces.native.models import JobList, JobOut, LoraOut, ModelOut, Progress
from clipforge.files.base import still_key
from clipforge.routing.served import ServedModel
from clipforge.schemas import Job, JobStatus
from clipforge.store.presence import WorkerPresence
from clipforge.store.tenant import TenantJobs

STARTED = int(time.time())
"""`created` of every model (what the openai SDK's model objects carry): this process's start."""


def loras_out(model: ServedModel, workers: list[WorkerPresence]) -> list[LoraOut]:
    """Each declared adapter and what the live workers holding the model say of it."""
    holding = [worker.adapters for worker in workers if worker.model == model.weights]
    out = []
    for adapter in model.adapters:
        reports = [report for report in holding if adapter.name in report]
        error = next((report[adapter.name] for report in reports if report[adapter.name]), None)
        status = "failed" if error else "loaded" if reports else "declared"
        error = without_server_paths(error) if error else None
        out.append(LoraOut(name=adapter.name, scale=adapter.scale, status=status, error=error))
    return out


def model_out(model: ServedModel, workers: list[WorkerPresence] | None = None) -> ModelOut:
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
        default_duration=spec.default_duration,
        resolutions=[resolution.value for resolution in spec.resolutions],
        default_resolution=spec.default_resolution.value,
        aspect_ratios=[ratio.value for ratio in spec.ratios] + ["adaptive"] * spec.adaptive,
        first_frame=model.first_frame,
        sound=model.audio,
        reference_images=model.references,
        reference_weights=model.with_references().weights if model.references else None,
        loras=loras_out(model, workers or []),
        loras_fixed=model.fixed_adapters,
        notes=list(model.capabilities.notes),
    )


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
