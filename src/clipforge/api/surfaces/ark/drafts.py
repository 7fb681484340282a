"""Ark's `draft_task`: render the full clip of a succeeded draft (a 480p preview with half
the steps) from the same prompt, seed and settings.

The body names the draft in its one content item (`{"type": "draft_task", "draft_task":
{"id": ...}}`) and the same model. It may set what does not change the picture's content:
`resolution` (the full clip's; default the one the draft was asked at), `watermark`,
`return_last_frame`, `safety_identifier` and the queueing fields. A field that would change
the clip (ratio, duration, frames, seed, camera_fixed, generate_audio, draft) is a 400 naming
it: those come from the draft.

A draft made with images (first and last frames, reference images) hands them on: the full
render takes them from the draft's storage (its frames were stored at the full clip's size:
`api/accept/submit.py`), so an image-to-video draft renders as the same image-to-video clip.
"""

from __future__ import annotations

from clipforge.api.accept.media import Image
from clipforge.api.deps import Services
from clipforge.api.surfaces.ark.models import CreateTaskBody
from clipforge.api.surfaces.ark.requests import AskedTask, served_model_id
from clipforge.errors import InvalidField, StoredFileGone
from clipforge.files.base import REFERENCES, frame_key
from clipforge.schemas import Job, JobStatus
from clipforge.store.tenant import TenantJobs
from clipforge.video.images import decode_png

FROM_THE_DRAFT = (
    "ratio",
    "duration",
    "frames",
    "seed",
    "camera_fixed",
    "generate_audio",
    "draft",
)


def names_a_draft(body: CreateTaskBody) -> bool:
    return any(item.type == "draft_task" for item in body.content)


def from_draft(body: CreateTaskBody, jobs: TenantJobs, services: Services) -> AskedTask:
    """The full render of the caller's draft the body names; a 400 naming the field else."""
    if len(body.content) != 1 or body.content[0].draft_task is None:
        raise InvalidField("content", "a draft_task item goes alone, with draft_task.id")
    field = "content[0].draft_task.id"
    draft = jobs.get(body.content[0].draft_task.id, field=field)
    if not draft.request.draft:
        raise InvalidField(field, f"task {draft.id!r} is not a draft")
    if draft.status is not JobStatus.COMPLETED:
        raise InvalidField(field, f"draft {draft.id!r} has not succeeded")
    if served_model_id(body.model, wants_images=False) != draft.request.model:
        raise InvalidField("model", f"the draft was made by {draft.request.client_model!r}")
    for name in FROM_THE_DRAFT:
        if getattr(body, name) is not None:
            raise InvalidField(name, "a draft_task render takes it from the draft")
    changes: dict[str, object] = {"draft": False, "draft_of": draft.id, "client_model": body.model}
    if body.resolution is not None:
        spec = services.models.require(draft.request.model).spec
        changes["resolution"] = spec.check_resolution(body.resolution)
    for name in ("watermark", "return_last_frame", "safety_identifier"):
        if getattr(body, name) is not None:
            changes[name] = getattr(body, name)
    request = draft.request.model_copy(update=changes)
    return AskedTask(request, [], adaptive=False, stored=draft_images(draft, services, field))


def draft_images(draft: Job, services: Services, field: str) -> list[Image]:
    """The draft's images as its storage has them (a 410 naming `field` where one is gone)."""
    request = draft.request
    named = [("first", request.image_url), ("last", request.last_image_url)]
    named += list(zip(REFERENCES, request.reference_images, strict=False))
    images = []
    for which, described in named:
        if described is None:
            continue
        try:
            data = services.storage.get_bytes(frame_key(draft.id, which))
        except FileNotFoundError:
            raise StoredFileGone(f"the {which} image of draft {draft.id!r}", field) from None
        images.append(Image(field, which, decode_png(data), described, png=data))
    return images
