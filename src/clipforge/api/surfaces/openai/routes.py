"""The OpenAI-style videos API (API.md section 4): `/v1/videos`, as the official `openai` SDK
and the self-hosted peers (vLLM-Omni, SGLang diffusion, FastVideo) speak it.

Create takes multipart/form-data (what the SDK always sends, a file part for
`input_reference` included) or JSON. Model names go through the routing's aliases (`sora-2`,
`sora-2-pro`, dated names); an `input_reference` asks for the family's image-to-video id.
`size` is rendered exactly. A remix is a new job with the source's settings and a new prompt;
an extension is a new clip that starts from the source's last frame (image-to-video), not a
stitched one: its `seconds` are its own. Errors have OpenAI's body (`api/http/errors.py`).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel

from clipforge.api.accept.bodies import json_or_form, parsed
from clipforge.api.accept.checks import check_prompt
from clipforge.api.accept.fields import QueryInt
from clipforge.api.accept.idempotency import IdempotencyHeader, fingerprint
from clipforge.api.accept.media import Image, take_video_last_frame
from clipforge.api.accept.media.forms import Upload
from clipforge.api.accept.submit import ImageField, submit, with_images
from clipforge.api.access import Caller
from clipforge.api.deps import Authorized, CallerDep, JobsDep, Services, ServicesDep
from clipforge.api.http.error_bodies import OPENAI_ERRORS
from clipforge.api.http.json_body import StrictJsonRoute
from clipforge.api.surfaces.openai.models import (
    Video,
    VideoCreateBody,
    VideoDeleted,
    VideoExtendBody,
    VideoList,
    VideoRemixBody,
)
from clipforge.api.surfaces.openai.requests import extension_request, to_request
from clipforge.api.surfaces.openai.sources import finished_source, stored_bytes, stored_frames
from clipforge.api.surfaces.openai.views import video_out, video_page, with_poll_hint
from clipforge.errors import InvalidField, JobNotFound, StoredFileGone
from clipforge.files.base import still_key, video_key
from clipforge.files.local import LocalStorage
from clipforge.schemas import GenerationRequest, Job, JobStatus
from clipforge.store.tenant import TenantJobs
from clipforge.video.images import decode_png

PATH = "/v1/videos"
VARIANTS = {"video": None, "thumbnail": "poster", "spritesheet": "sprites"}
CREATE_FILES = {"input_reference": "input_reference[image_url]"}
"""An `input_reference` file part is the first frame, taken as uploaded bytes."""

router = APIRouter(
    tags=["OpenAI videos"],
    dependencies=[Authorized],
    responses=OPENAI_ERRORS,
    route_class=StrictJsonRoute,
)


async def _create(
    request: GenerationRequest,
    images: list[ImageField],
    services: Services,
    caller: Caller,
    jobs: TenantJobs,
    key: str | None,
    body: BaseModel,
    surface: str,
    stored: list[Image] | None = None,
    uploads: dict[str, Upload] | None = None,
    source: str | None = None,
) -> Job:
    """`source`: what a remix or an extension is of (part of the Idempotency-Key's request)."""
    request, taken = await with_images(request, images, services, adaptive=False)
    digests = {name: upload.sha256 for name, upload in (uploads or {}).items()}
    once = partial(fingerprint, surface, body, source=source, uploads=digests)
    all_images = [*taken, *(stored or [])]
    return await submit(services, caller, jobs, request, all_images, key, once, surface="openai")


@router.post(PATH, summary="Create a video", openapi_extra=json_or_form(VideoCreateBody))
async def create_video(
    request: Request,
    response: Response,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> Video:
    body, uploads = await parsed(request, VideoCreateBody, CREATE_FILES)
    asked = to_request(body, services)  # validation: inline, never queued
    reference, upload = body.input_reference, uploads.get("input_reference")
    data = None if upload is None else upload.data
    images = (
        []
        if reference is None
        else [ImageField("input_reference", "first", reference.image_url, data)]
    )
    job = await _create(asked, images, services, caller, jobs, key, body, PATH, uploads=uploads)
    return with_poll_hint(await services.call(video_out, job, jobs, services), response)


VideoId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get(f"{PATH}/{{video_id}}", summary="Retrieve a video")
async def retrieve_video(
    video_id: VideoId, response: Response, services: ServicesDep, jobs: JobsDep
) -> Video:
    job = await services.call(jobs.get, video_id, "video_id")
    return with_poll_hint(await services.call(video_out, job, jobs, services), response)


@router.get(PATH, summary="List videos (cursor pages)")
async def list_videos(
    services: ServicesDep,
    jobs: JobsDep,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=100)] = 20,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> VideoList:
    return await services.call(video_page, jobs, services, after, limit, order == "asc")


@router.delete(f"{PATH}/{{video_id}}", summary="Delete a video (a running one is cancelled)")
async def delete_video(video_id: VideoId, services: ServicesDep, jobs: JobsDep) -> VideoDeleted:
    return await services.call(_delete, video_id, jobs)


def _delete(video_id: str, jobs: TenantJobs) -> VideoDeleted:
    job = jobs.get(video_id, "video_id")
    if not job.status.is_terminal:
        jobs.cancel(video_id, "video_id")
    if jobs.delete_finished(video_id) is None:
        raise JobNotFound(video_id, field="video_id")
    return VideoDeleted(id=job.id)


@router.get(
    f"{PATH}/{{video_id}}/content",
    summary="Download the video, its thumbnail or its spritesheet",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}, "image/webp": {}, "image/jpeg": {}}}},
)
async def download_content(
    video_id: VideoId,
    services: ServicesDep,
    jobs: JobsDep,
    variant: Annotated[Literal["video", "thumbnail", "spritesheet"], Query()] = "video",
) -> Response:
    job = await services.call(jobs.get, video_id, "video_id")
    kind = VARIANTS[variant]
    if job.status is not JobStatus.COMPLETED or (kind is not None and kind not in job.stills):
        raise JobNotFound(video_id, field="video_id") from None
    if job.purged_at is not None:
        raise InvalidField("video_id", "the video was removed after the retention period")
    key = video_key(job.id) if kind is None else still_key(job.id, kind)
    storage = services.storage
    if isinstance(storage, LocalStorage):
        if not await asyncio.to_thread(storage.exists, key):
            raise StoredFileGone(f"the {variant} of video {job.id!r}", "video_id")
        return FileResponse(storage.path(key), media_type=_media_type(key))
    return RedirectResponse(storage.url(key), status_code=307)


def _media_type(key: str) -> str:
    from clipforge.files.base import media_type

    return media_type(key)


@router.post(f"{PATH}/{{video_id}}/remix", summary="Remix a video with a new prompt")
async def remix_video(
    video_id: VideoId,
    body: VideoRemixBody,
    response: Response,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> Video:
    source = await services.call(finished_source, jobs, video_id, "video_id")
    check_prompt(body.prompt, "prompt", services.settings.max_prompt_chars)
    update = {"prompt": body.prompt, "source_job": source.id}
    asked = source.request.model_copy(update=update)
    stored = await services.call(stored_frames, source, services)
    surface = f"{PATH}/remix"
    job = await _create(
        asked, [], services, caller, jobs, key, body, surface, stored, source=source.id
    )
    return with_poll_hint(await services.call(video_out, job, jobs, services), response)


@router.post(
    f"{PATH}/extensions",
    summary="Extend a video: a new clip that starts from its last frame",
    openapi_extra=json_or_form(VideoExtendBody),
)
async def extend_video(
    request: Request,
    response: Response,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> Video:
    body, uploads = await parsed(request, VideoExtendBody, {"video": None})
    png = None  # the source's stored last frame, kept as it is when the sizes match
    if "video" in uploads:  # a video file: the extension starts from its last frame
        last = await take_video_last_frame("video", uploads["video"].data, services.settings)
        source = None
    elif body.video is not None:
        source = await services.call(finished_source, jobs, body.video.id, "video.id")
        if "lastframe" not in source.stills:
            raise InvalidField("video.id", "this video has no last frame to start from")
        lastframe = still_key(source.id, "lastframe")
        png = await services.call(
            stored_bytes, services, source.id, lastframe, "last frame", "video.id"
        )
        last = await asyncio.to_thread(decode_png, png)  # never on the event loop
    else:
        raise InvalidField("video", "field required: a video file or {id} of a video")
    asked = extension_request(body, source, last, services)
    stored = [Image("video", "first", last, asked.image_url or "", png=png)]
    origin = None if source is None else source.id
    surface = f"{PATH}/extensions"
    job = await _create(
        asked, [], services, caller, jobs, key, body, surface, stored, uploads, origin
    )
    return with_poll_hint(await services.call(video_out, job, jobs, services), response)


@router.post(f"{PATH}/edits", summary="Edit a video (not supported here: a 400)")
async def edit_video() -> None:
    raise InvalidField("video", "video editing is not supported by this server")
