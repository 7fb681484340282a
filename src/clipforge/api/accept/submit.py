"""Creating a job, the same on every surface: its images taken in and stored first, then the
job row (once per Idempotency-Key, within the caller's queue cap), and nothing half-made left
behind when the create is refused or answered by an earlier job."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from clipforge.api.accept.adapters import refuse_failed_adapters
from clipforge.api.accept.idempotency import create_job
from clipforge.api.accept.media import Image, fitted_png, nearest_ratio, take_image
from clipforge.api.access import Caller
from clipforge.api.deps import Services
from clipforge.errors import StorageUnavailable
from clipforge.files.base import Storage, frame_key
from clipforge.logs import log_fields
from clipforge.schemas import GenerationRequest, Job
from clipforge.seedance_models import spec_for
from clipforge.store.base import NO_EXTRAS, JobExtras
from clipforge.store.tenant import TenantJobs
from clipforge.video.images import encode_png

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageField:
    """An image a request names: the field it came in (for errors), first or last, its URL
    (or, for a file uploaded in a form, its bytes)."""

    field: str
    which: str
    url: str
    data: bytes | None = None


async def with_images(
    request: GenerationRequest, fields: Sequence[ImageField], services: Services, adaptive: bool
) -> tuple[GenerationRequest, list[Image]]:
    """The request with its images taken in: the image fields as the job records them, and
    (with `adaptive`) the aspect ratio nearest the first image's."""
    images = [await take_image(f.field, f.which, f.url, services.settings, f.data) for f in fields]
    changes: dict[str, object] = {}
    references = tuple(image.described for image in images if _is_reference(image.which))
    for image in images:
        if not _is_reference(image.which):
            changes["image_url" if image.which == "first" else "last_image_url"] = image.described
    if references:
        changes["reference_images"] = references
    first = next((image for image in images if image.which == "first"), None)
    if adaptive and first is not None:
        changes["aspect_ratio"] = nearest_ratio(first.pixels, spec_for(request.model).ratios)
    return (request.model_copy(update=changes) if changes else request), images


async def submit(
    services: Services,
    caller: Caller,
    jobs: TenantJobs,
    request: GenerationRequest,
    images: Sequence[Image],
    key: str | None,
    fingerprint_of: Callable[[], str],
    extras: JobExtras = NO_EXTRAS,
    *,
    surface: str,
) -> Job:
    """Store the fitted images under a new job id, then create the job with that id.
    `surface` (aimlapi, ark, native, openai) is what the metrics and the log line say."""
    await refuse_failed_adapters(services, request)
    job_id = str(uuid.uuid4())
    # A draft's frames are kept at the full clip's size: its full render takes them on.
    width, height = request.model_copy(update={"draft": False}).size
    if services.quota.enabled:
        await asyncio.to_thread(services.quota.check)
    if images:
        await asyncio.to_thread(_store, services.storage, job_id, images, width, height)
    try:
        job = await services.call(
            create_job,
            jobs,
            caller,
            request,
            key,
            fingerprint_of,
            replace(extras, job_id=job_id, surface=surface),
        )
    except BaseException:
        await asyncio.to_thread(_remove, services.storage, job_id, images)
        raise
    if job.id != job_id:  # the Idempotency-Key's earlier job: it has its own images
        await asyncio.to_thread(_remove, services.storage, job_id, images)
        return job
    services.metrics.job_created(surface, job)
    with log_fields(job_id=job.id, model=request.model, surface=surface):
        log.info("job %s created", job.id)
    return job


def _is_reference(which: str) -> bool:
    return which.startswith("ref")


def _store(storage: Storage, job_id: str, images: Sequence[Image], width: int, height: int) -> None:
    try:
        for image in images:
            # A reference image is no frame: it is kept as sent, not cropped to the clip's shape.
            data = (
                encode_png(image.pixels)
                if _is_reference(image.which)
                else fitted_png(image, width, height)
            )
            storage.put_bytes(frame_key(job_id, image.which), data)
    except StorageUnavailable:  # 503: leave no first frame without its job
        with contextlib.suppress(StorageUnavailable):
            _remove(storage, job_id, images)
        raise


def _remove(storage: Storage, job_id: str, images: Sequence[Image]) -> None:
    for image in images:
        storage.delete(frame_key(job_id, image.which))
