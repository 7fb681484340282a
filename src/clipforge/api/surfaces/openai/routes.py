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
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel

from clipforge.api.accept.bodies import json_or_form, parsed
from clipforge.api.accept.checks import check_model_id, check_prompt
from clipforge.api.accept.fields import QueryInt, Sampling
from clipforge.api.accept.idempotency import IdempotencyHeader, fingerprint
from clipforge.api.accept.media import Image, take_video_last_frame
from clipforge.api.accept.media.forms import Upload
from clipforge.api.accept.submit import ImageField, submit, with_images
from clipforge.api.access import Caller
from clipforge.api.deps import Authorized, CallerDep, JobsDep, Services, ServicesDep
from clipforge.api.http.error_bodies import OPENAI_ERRORS
from clipforge.api.http.json_body import StrictJsonRoute
from clipforge.api.surfaces.openai.models import (
    DEFAULT_MODEL,
    DEFAULT_SECONDS,
    DEFAULT_SIZE,
    SIZES,
    Video,
    VideoCreateBody,
    VideoDeleted,
    VideoError,
    VideoExtendBody,
    VideoList,
    VideoRemixBody,
    VideoStatus,
)
from clipforge.errors import InvalidField, JobNotFound, StoredFileGone
from clipforge.files.base import frame_key, still_key, video_key
from clipforge.files.local import LocalStorage
from clipforge.schemas import (
    FRAME_SIZES,
    AspectRatio,
    GenerationRequest,
    Job,
    JobStatus,
    Resolution,
    new_seed,
)
from clipforge.store.filters import JobFilter
from clipforge.store.tenant import TenantJobs
from clipforge.video.images import decode_png

PATH = "/v1/videos"
POLL_AFTER_HEADER = "openai-poll-after-ms"
POLL_AFTER_MS = {"queued": 1000, "in_progress": 500}
STATUS: dict[JobStatus, VideoStatus] = {
    JobStatus.QUEUED: "queued",
    JobStatus.GENERATING: "in_progress",
    JobStatus.COMPLETED: "completed",
    JobStatus.ERROR: "failed",
    JobStatus.CANCELLED: "failed",
}
VARIANTS = {"video": None, "thumbnail": "poster", "spritesheet": "sprites"}
CREATE_FILES = {"input_reference": "input_reference[image_url]"}
"""An `input_reference` file part is the first frame, taken as uploaded bytes."""
EXTENSION_PREFIX = "video:"
"""How an extension records its first frame: `video:<source id>#last_frame`."""

router = APIRouter(
    tags=["OpenAI videos"],
    dependencies=[Authorized],
    responses=OPENAI_ERRORS,
    route_class=StrictJsonRoute,
)


def _size(text: str) -> tuple[Resolution, AspectRatio, int, int]:
    if text not in SIZES:
        raise InvalidField("size", f"{text!r} is not a size served here", allowed=sorted(SIZES))
    width, height = SIZES[text]
    short = min(width, height)
    resolution = (
        Resolution.P480 if short <= 544 else Resolution.P720 if short <= 960 else Resolution.P1080
    )
    table = FRAME_SIZES[resolution]
    ratio = min(AspectRatio, key=lambda r: abs(table[r][0] / table[r][1] - width / height))
    return resolution, ratio, width, height


def _sampling(body: Sampling) -> dict[str, Any]:
    return {
        "negative_prompt": body.negative_prompt,
        "num_inference_steps": body.num_inference_steps,
        "guidance_scale": None if body.guidance_scale is None else float(body.guidance_scale),
        "seed": new_seed(body.seed),
    }


def to_request(body: VideoCreateBody, services: Services) -> GenerationRequest:
    settings = services.settings
    check_prompt(body.prompt, "prompt", settings.max_prompt_chars)
    name = check_model_id(body.model or DEFAULT_MODEL)
    served = services.models.resolve(name, with_image=body.input_reference is not None)
    if body.input_reference is None and served.image_input:
        raise InvalidField("input_reference", f"model {name!r} needs a first frame image")
    resolution, ratio, width, height = _size(body.size or DEFAULT_SIZE)
    request = GenerationRequest(
        model=served.id,
        client_model=name,
        prompt=body.prompt,
        resolution=resolution,
        aspect_ratio=ratio,
        width=width,
        height=height,
        duration=int(body.seconds or DEFAULT_SECONDS),
        generate_audio=served.audio,  # sound as the served model makes it (none on 1.0 ids)
        **_sampling(body),
    )
    services.models.check(request, "seconds")
    return request


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


def _with_poll_hint(video: Video, response: Response) -> Video:
    if video.status in POLL_AFTER_MS:
        response.headers[POLL_AFTER_HEADER] = str(POLL_AFTER_MS[video.status])
    return video


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
    return _with_poll_hint(await services.call(video_out, job, jobs, services), response)


VideoId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get(f"{PATH}/{{video_id}}", summary="Retrieve a video")
async def retrieve_video(
    video_id: VideoId, response: Response, services: ServicesDep, jobs: JobsDep
) -> Video:
    job = await services.call(jobs.get, video_id, "video_id")
    return _with_poll_hint(await services.call(video_out, job, jobs, services), response)


@router.get(PATH, summary="List videos (cursor pages)")
async def list_videos(
    services: ServicesDep,
    jobs: JobsDep,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=100)] = 20,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> VideoList:
    return await services.call(_page, jobs, services, after, limit, order == "asc")


def _page(
    jobs: TenantJobs, services: Services, after: str | None, limit: int, oldest_first: bool
) -> VideoList:
    where = JobFilter()
    if after is not None:
        cursor = jobs.get(after, "after")
        bound = (cursor.created_at, cursor.id)
        where = JobFilter(newer_than=bound) if oldest_first else JobFilter(older_than=bound)
    found = jobs.page(limit + 1, 0, where, oldest_first=oldest_first)
    data = [video_out(job, jobs, services) for job in found[:limit]]
    first, last = (data[0].id, data[-1].id) if data else (None, None)
    return VideoList(data=data, first_id=first, last_id=last, has_more=len(found) > limit)


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
    source = await services.call(_finished_source, jobs, video_id, "video_id")
    check_prompt(body.prompt, "prompt", services.settings.max_prompt_chars)
    update = {"prompt": body.prompt, "source_job": source.id}
    asked = source.request.model_copy(update=update)
    stored = await services.call(_stored_frames, source, services)
    surface = f"{PATH}/remix"
    job = await _create(
        asked, [], services, caller, jobs, key, body, surface, stored, source=source.id
    )
    return _with_poll_hint(await services.call(video_out, job, jobs, services), response)


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
        source = await services.call(_finished_source, jobs, body.video.id, "video.id")
        if "lastframe" not in source.stills:
            raise InvalidField("video.id", "this video has no last frame to start from")
        lastframe = still_key(source.id, "lastframe")
        png = await services.call(
            stored_bytes, services, source.id, lastframe, "last frame", "video.id"
        )
        last = await asyncio.to_thread(decode_png, png)  # never on the event loop
    else:
        raise InvalidField("video", "field required: a video file or {id} of a video")
    asked = _extension(body, source, last, services)
    stored = [Image("video", "first", last, asked.image_url or "", png=png)]
    origin = None if source is None else source.id
    surface = f"{PATH}/extensions"
    job = await _create(
        asked, [], services, caller, jobs, key, body, surface, stored, uploads, origin
    )
    return _with_poll_hint(await services.call(video_out, job, jobs, services), response)


@router.post(f"{PATH}/edits", summary="Edit a video (not supported here: a 400)")
async def edit_video() -> None:
    raise InvalidField("video", "video editing is not supported by this server")


def _finished_source(jobs: TenantJobs, video_id: str, field: str) -> Job:
    source = jobs.get(video_id, field)
    if source.status is not JobStatus.COMPLETED:
        raise InvalidField(field, f"video {video_id!r} has not completed")
    return source


def _extension(
    body: VideoExtendBody, source: Job | None, last: np.ndarray, services: Services
) -> GenerationRequest:
    """The extension's request: the source's model family (image-to-video) and size, or for
    an uploaded video the default model at the nearest size served; the source's last frame
    is the first frame."""
    check_prompt(body.prompt, "prompt", services.settings.max_prompt_chars)
    if source is None:
        name, values, origin = DEFAULT_MODEL, _nearest_size(last), "upload"
    else:
        name = source.request.client_model or source.request.model
        keep = {"resolution", "aspect_ratio", "width", "height", "watermark", "camera_fixed"}
        values, origin = source.request.model_dump(include=keep), source.id
    served = services.models.resolve(name, with_image=True, field="video")
    request = GenerationRequest(
        model=served.id,
        client_model=name,
        prompt=body.prompt,
        duration=int(body.seconds),
        image_url=f"{EXTENSION_PREFIX}{origin}#last_frame",
        source_job=None if source is None else source.id,
        **values,
        **_sampling(body),
    )
    services.models.check(request, "seconds")
    return request


def _nearest_size(frame: np.ndarray) -> dict[str, Any]:
    height, width = frame.shape[:2]
    text = min(SIZES, key=lambda s: abs(SIZES[s][0] - width) + abs(SIZES[s][1] - height))
    resolution, ratio, exact_w, exact_h = _size(text)
    return {"resolution": resolution, "aspect_ratio": ratio, "width": exact_w, "height": exact_h}


def stored_bytes(services: Services, job_id: str, key: str, what: str, field: str) -> bytes:
    """A job's stored file, or StoredFileGone (410 naming `field`) when it is not there."""
    try:
        return services.storage.get_bytes(key)
    except FileNotFoundError:
        raise StoredFileGone(f"the {what} of video {job_id!r}", field) from None


def _stored_frames(source: Job, services: Services) -> list[Image]:
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
