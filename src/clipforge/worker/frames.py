"""A job's input images as the API stored them: its first and last frames and its reference
images, read back from storage for the backend."""

from __future__ import annotations

import numpy as np

from clipforge.backends.base import ImageInput
from clipforge.errors import GenerationFailed
from clipforge.files.base import REFERENCES, Storage, frame_key
from clipforge.schemas import Job
from clipforge.video.images import decode_png
from clipforge.video.resize import resize_frame


def job_images(storage: Storage, job: Job) -> ImageInput:
    """The job's first and last frames, as the API stored them (fitted to its shape; a
    draft's at the full clip's size, brought to its own here)."""
    request = job.request
    found: dict[str, np.ndarray | None] = {"first": None, "last": None}
    for which, url in (("first", request.image_url), ("last", request.last_image_url)):
        if url is None:
            continue
        try:
            frame = decode_png(storage.get_bytes(frame_key(job.id, which)))
        except FileNotFoundError:
            raise GenerationFailed(f"the job's {which} frame image is gone") from None
        width, height = request.size
        if frame.shape[:2] != (height, width):
            frame = resize_frame(frame, width, height)
        found[which] = frame
    references = tuple(
        _stored(storage, job, which) for which in REFERENCES[: len(request.reference_images)]
    )
    return ImageInput(found["first"], found["last"], references)


def _stored(storage: Storage, job: Job, which: str) -> np.ndarray:
    try:
        return decode_png(storage.get_bytes(frame_key(job.id, which)))
    except FileNotFoundError:
        raise GenerationFailed(f"the job's {which} image is gone") from None
