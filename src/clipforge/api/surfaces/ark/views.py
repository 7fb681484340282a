"""An Ark task object as clients and callback receivers see it (no router, no FastAPI: a
`clipforge worker` sends callbacks with it)."""

from __future__ import annotations

from collections.abc import Callable

from clipforge.api.surfaces.ark.models import (
    STATUS_OUT,
    Task,
    TaskContent,
    TaskError,
    TaskStatus,
    TaskUsage,
)
from clipforge.files.base import Storage, still_key
from clipforge.schemas import FPS, Job, JobStatus
from clipforge.store.filters import EXPIRED

VIDEO_EXPIRED = TaskError(
    code="VideoExpired",
    message="the video was removed after the server's retention period; generate it again",
)
"""The `error` of a succeeded task whose video retention removed (`content.video_url` null)."""


def task_status(job: Job) -> TaskStatus:
    if job.status is JobStatus.ERROR and job.error_name == EXPIRED:
        return "expired"
    return STATUS_OUT[job.status]


def task_out(job: Job, storage: Storage) -> Task:
    """A job as an Ark task object (also what a callback POSTs)."""
    request = job.request
    status = task_status(job)
    content, error = None, None
    if status == "succeeded" and job.purged_at is not None:
        content, error = TaskContent(video_url=None), VIDEO_EXPIRED
    elif status == "succeeded" and job.video_key:
        last_frame = None
        if request.return_last_frame and "lastframe" in job.stills:
            last_frame = storage.url(still_key(job.id, "lastframe"))
        content = TaskContent(video_url=storage.url(job.video_key), last_frame_url=last_frame)
    if status in ("failed", "expired"):
        code = job.error_name or "InternalServiceError"
        error = TaskError(code=code, message=job.error_message or "")
    tokens = request.usage_tokens
    return Task(
        id=job.id,
        model=request.client_model or request.model,
        status=status,
        content=content,
        usage=TaskUsage(completion_tokens=tokens, total_tokens=tokens),
        created_at=int(job.created_at),
        updated_at=int(job.updated_at),
        seed=request.seed,
        resolution=request.resolution.value,
        ratio=request.aspect_ratio.value,
        duration=request.duration,
        frames=_written(job, "frames", request.frames),
        framespersecond=_written(job, "fps", FPS),
        service_tier=job.tier,
        priority=job.priority,
        execution_expires_after=(
            None if job.expires_at is None else round(job.expires_at - job.created_at)
        ),
        safety_identifier=request.safety_identifier,
        generate_audio=request.generate_audio,
        draft=request.draft,
        revised_prompt=_revised(job),
        error=error,
    )


def _written(job: Job, key: str, asked: int) -> int:
    """The file's frame count or rate once a worker has planned it (a 16 fps model's file is
    16 fps: `video/cadence.py`), else what the request asked."""
    frame_rate = job.reading.get("frame_rate")
    value = frame_rate.get(key) if isinstance(frame_rate, dict) else None
    return value if isinstance(value, int) else asked


def _revised(job: Job) -> str | None:
    """What the model made of the prompt (Ark's `revised_prompt`), once a worker has it."""
    prompt = job.reading.get("prompt")
    return prompt if isinstance(prompt, str) else None


def callback_view(storage: Storage) -> Callable[[Job], bytes]:
    """What a callback receiver gets of a job: the Ark task object, as JSON bytes."""

    def view(job: Job) -> bytes:
        return task_out(job, storage).model_dump_json().encode()

    return view
