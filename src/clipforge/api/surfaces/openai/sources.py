"""What a remix or an extension is made from: a finished source video and its stored
frames, read back from storage."""

from __future__ import annotations

from clipforge.api.accept.media import Image
from clipforge.api.deps import Services
from clipforge.errors import InvalidField, StoredFileGone
from clipforge.files.base import frame_key
from clipforge.schemas import Job, JobStatus
from clipforge.store.tenant import TenantJobs
from clipforge.video.images import decode_png


def finished_source(jobs: TenantJobs, video_id: str, field: str) -> Job:
    source = jobs.get(video_id, field)
    if source.status is not JobStatus.COMPLETED:
        raise InvalidField(field, f"video {video_id!r} has not completed")
    return source


def stored_bytes(services: Services, job_id: str, key: str, what: str, field: str) -> bytes:
    """A job's stored file, or StoredFileGone (410 naming `field`) when it is not there."""
    try:
        return services.storage.get_bytes(key)
    except FileNotFoundError:
        raise StoredFileGone(f"the {what} of video {job_id!r}", field) from None


def stored_frames(source: Job, services: Services) -> list[Image]:
    """A remix keeps the source's first and last frames (read back from storage)."""
    frames = []
    for which, url in (
        ("first", source.request.image_url),
        ("last", source.request.last_image_url),
    ):
        if url is not None:
            key = frame_key(source.id, which)
            data = stored_bytes(services, source.id, key, f"{which} frame", "video_id")
            frames.append(Image("video_id", which, decode_png(data), url, png=data))
    return frames
