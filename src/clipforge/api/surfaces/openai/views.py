"""A job as the OpenAI video object, a cursor page of them, and the poll hint header on
unfinished ones."""

from __future__ import annotations

from fastapi import Response

from clipforge.api.deps import Services
from clipforge.api.surfaces.openai.models import Video, VideoError, VideoList, VideoStatus
from clipforge.api.surfaces.openai.requests import EXTENSION_PREFIX
from clipforge.schemas import Job, JobStatus
from clipforge.store.filters import JobFilter
from clipforge.store.tenant import TenantJobs

POLL_AFTER_HEADER = "openai-poll-after-ms"
POLL_AFTER_MS = {"queued": 1000, "in_progress": 500}
STATUS: dict[JobStatus, VideoStatus] = {
    JobStatus.QUEUED: "queued",
    JobStatus.GENERATING: "in_progress",
    JobStatus.COMPLETED: "completed",
    JobStatus.ERROR: "failed",
    JobStatus.CANCELLED: "failed",
}


def video_out(job: Job, jobs: TenantJobs, services: Services) -> Video:
    """A job as the OpenAI video object (jobs made on any surface can be read here)."""
    request, status = job.request, STATUS[job.status]
    error = None
    if status == "failed":
        error = VideoError(code=job.error_name or "cancelled", message=job.error_message or "")
    progress = 0
    if job.status is JobStatus.COMPLETED:
        progress = 100
    elif job.progress_total:
        progress = min(99, 100 * job.progress_step // job.progress_total)
    days = services.settings.retention_days
    expires = None if days is None or job.finished_at is None else job.finished_at + days * 86_400
    width, height = request.size
    extension = (request.image_url or "").startswith(EXTENSION_PREFIX)
    return Video(
        id=job.id,
        model=request.client_model or request.model,
        status=status,
        progress=progress,
        created_at=int(job.created_at),
        completed_at=int(job.finished_at) if status == "completed" and job.finished_at else None,
        expires_at=None if expires is None else int(expires),
        prompt=request.prompt,
        seconds=f"{round(request.seconds, 2):g}",  # Ark frames=57: "2.33"
        size=f"{width}x{height}",
        remixed_from_video_id=None if extension else request.source_job,
        error=error,
    )


def with_poll_hint(video: Video, response: Response) -> Video:
    if video.status in POLL_AFTER_MS:
        response.headers[POLL_AFTER_HEADER] = str(POLL_AFTER_MS[video.status])
    return video


def video_page(
    jobs: TenantJobs, services: Services, after: str | None, limit: int, oldest_first: bool
) -> VideoList:
    """A cursor page of videos: those after `after` in the asked order."""
    where = JobFilter()
    if after is not None:
        cursor = jobs.get(after, "after")
        bound = (cursor.created_at, cursor.id)
        where = JobFilter(newer_than=bound) if oldest_first else JobFilter(older_than=bound)
    found = jobs.page(limit + 1, 0, where, oldest_first=oldest_first)
    data = [video_out(job, jobs, services) for job in found[:limit]]
    first, last = (data[0].id, data[-1].id) if data else (None, None)
    return VideoList(data=data, first_id=first, last_id=last, has_more=len(found) > limit)
