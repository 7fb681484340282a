"""The AI/ML API surface (API.md section 1): the seed's legacy path and the universal path."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictBool, StrictStr, model_serializer
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from clipforge.api.accept.checks import check_images, check_model_id, check_prompt
from clipforge.api.accept.fields import Sampling
from clipforge.api.accept.idempotency import IdempotencyHeader, fingerprint
from clipforge.api.accept.media.forms import Upload
from clipforge.api.accept.seedance_fields import (
    MediaList,
    Provider,
    RatioIn,
    References,
    Seconds,
    check_placeholders,
    picked,
    reference_fields,
    refuse_untaken_media,
)
from clipforge.api.accept.submit import ImageField, submit, with_images
from clipforge.api.access import Caller
from clipforge.api.deps import Authorized, CallerDep, JobsDep, Services, ServicesDep
from clipforge.api.http.error_bodies import AIML_ERRORS
from clipforge.api.http.json_body import StrictJsonRoute
from clipforge.schemas import GenerationRequest, Job, JobStatus, Resolution, new_seed
from clipforge.seedance_models import SPECS
from clipforge.store.tenant import TenantJobs

LEGACY_PATH = "/v2/generate/video/bytedance/generation"
UNIVERSAL_PATH = "/v2/video/generations"

router = APIRouter(
    route_class=StrictJsonRoute,
    tags=["AI/ML API"],
    dependencies=[Authorized],
    responses=AIML_ERRORS,
)


class CreateVideoBody(Sampling):
    """Create a generation. JSON null means absent; an unknown field is a 400 naming it. The
    sampling fields (negative_prompt, num_inference_steps, guidance_scale) are the self-hosted
    peers' extensions, honoured where the model's backend takes them."""

    model: StrictStr = Field(examples=["bytedance/seedance-1-0-pro-t2v"])
    prompt: StrictStr = Field(min_length=1, description="At most CLIPFORGE_MAX_PROMPT_CHARS.")
    resolution: Resolution | None = Field(
        None, description="Short side (4k: 2.0); default per model (1.0: 1080p, newer: 720p)."
    )
    aspect_ratio: RatioIn | None = Field(
        None, description="Default 16:9; adaptive (1.5, 2.x): the first image's, else 16:9."
    )
    duration: Seconds | None = Field(
        None, description="Seconds: 5 or 10 (1.0), 4-12 (1.5), 4-15 (2.0), 4-30 (2.5)."
    )
    watermark: StrictBool | None = Field(None, description="Visible 'AI generated' mark.")
    camerafixed: StrictBool | None = Field(None, description="Keep the camera still.")
    camera_fixed: StrictBool | None = Field(None, description="Later spelling of camerafixed.")
    image_url: StrictStr | None = Field(None, description="First frame (image-to-video ids).")
    last_image_url: StrictStr | None = Field(None, description="Last frame (image-to-video).")
    generate_audio: StrictBool | None = Field(
        None,
        description="A sound track (AAC); default true from 1.5 on, where the model's "
        "backend makes sound (a 400 where it cannot).",
    )
    provider: Provider | None = Field(None, description="Accepted and echoed.")
    image_urls: References | None = Field(
        None, description="2.x: reference images (@Image1...), where the backend takes them."
    )
    video_urls: MediaList | None = Field(None, description="Not taken here yet (a 400).")
    audio_urls: MediaList | None = Field(None, description="Not taken here yet (a 400).")
    video_url: StrictStr | None = Field(None, description="Not taken here yet (a 400).")
    audio_url: StrictStr | None = Field(None, description="Not taken here yet (a 400).")


class Usage(BaseModel):
    credits_used: int
    usd_spent: float | None = None
    """1.5 and 2.x: 0 (self-hosted); absent on the 1.0 ids, as before."""

    @model_serializer(mode="wrap")
    def _sparse(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        return _without_nulls(handler(self), ("usd_spent",))


def _without_nulls(data: dict[str, object], names: tuple[str, ...]) -> dict[str, object]:
    return {k: v for k, v in data.items() if not (k in names and v is None)}


class Meta(BaseModel):
    usage: Usage


class CreatedGeneration(BaseModel):
    id: str
    status: Literal["queued"] = "queued"
    meta: Meta


class VideoOut(BaseModel):
    url: str


class ErrorOut(BaseModel):
    name: str
    message: str


VIDEO_EXPIRED = ErrorOut(
    name="VideoExpired",
    message="the video was removed after the server's retention period; generate it again",
)
"""The `error` of a completed generation whose video retention removed (`video` is null)."""


class GenerationOut(BaseModel):
    id: str
    status: Literal["queued", "generating", "completed", "error"]
    video: VideoOut | None = None
    error: ErrorOut | None = None
    meta: Meta
    provider: str | None = None
    """The request's `provider`, echoed (absent when it sent none)."""

    @model_serializer(mode="wrap")
    def _sparse(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        return _without_nulls(handler(self), ("provider",))


def to_generation_request(body: CreateVideoBody, services: Services) -> GenerationRequest:
    """Apply the defaults of API.md section 1 and check the model is served here."""
    check_prompt(body.prompt, "prompt", services.settings.max_prompt_chars)
    served = services.models.require(check_model_id(body.model))
    if body.image_urls:  # served by the id's reference weights (Wan VACE under catalogue)
        served = served.with_references()
        check_placeholders(body.prompt, len(body.image_urls), "prompt")
    check_images(served, ("image_url", body.image_url), ("last_image_url", body.last_image_url))
    refuse_untaken_media(body.model_dump(include=set(UNTAKEN)), served)
    values = body.model_dump(exclude_none=True, include=SAMPLING)
    values |= picked(served.spec, body.resolution, body.aspect_ratio, body.duration)
    values["generate_audio"] = served.audio_for(body.generate_audio)
    for name in ("watermark", "provider"):
        if getattr(body, name) is not None:
            values[name] = getattr(body, name)
    if body.guidance_scale is not None:
        values["guidance_scale"] = float(body.guidance_scale)
    camera_fixed = body.camera_fixed if body.camera_fixed is not None else body.camerafixed
    if camera_fixed is not None:
        values["camera_fixed"] = camera_fixed
    loras = services.models.loras(served, body.loras)
    request = GenerationRequest(**values, seed=new_seed(body.seed), loras=loras)
    services.models.check(request)
    return request


UNTAKEN = ("video_urls", "audio_urls", "video_url", "audio_url")
SAMPLING = {"model", "prompt", "negative_prompt", "num_inference_steps"}


def image_fields(
    body: CreateVideoBody, services: Services, uploads: Mapping[str, Upload] = {}
) -> list[ImageField]:
    """First and last frames (their bytes where a form uploaded them), then the reference
    images (`ref1`...)."""
    named = (
        ("image_url", "first", body.image_url),
        ("last_image_url", "last", body.last_image_url),
    )
    frames = [
        ImageField(field, which, url, uploads[field].data if field in uploads else None)
        for field, which, url in named
        if url is not None
    ]
    if not body.image_urls:
        return frames
    served = services.models.require(body.model)
    return frames + reference_fields(body.image_urls, served, "image_urls")


async def create_from(
    body: CreateVideoBody,
    services: Services,
    caller: Caller,
    jobs: TenantJobs,
    key: str | None,
    path: str,
    surface: str = "aimlapi",
    uploads: Mapping[str, Upload] = {},
) -> Job:
    """Validate the body, take in its images (`uploads`: those a form sent as files), then
    create the job (once per idempotency key and `path`). An image-to-video request without
    `aspect_ratio` takes the first image's (Ark's adaptive)."""
    request = to_generation_request(body, services)  # validation: inline, never queued
    adaptive = body.aspect_ratio in (None, "adaptive")
    fields = image_fields(body, services, uploads)
    request, images = await with_images(request, fields, services, adaptive)
    digests = {name: upload.sha256 for name, upload in uploads.items()}
    once = partial(fingerprint, path, body, **({"uploads": digests} if digests else {}))
    return await submit(services, caller, jobs, request, images, key, once, surface=surface)


@router.post(LEGACY_PATH, status_code=201, summary="Create a generation (seed document path)")
async def create_legacy(
    body: CreateVideoBody,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> CreatedGeneration:
    job = await create_from(body, services, caller, jobs, key, LEGACY_PATH)
    return CreatedGeneration(id=job.id, meta=_meta(job))


@router.post(UNIVERSAL_PATH, summary="Create a generation (universal path)")
async def create_universal(
    body: CreateVideoBody,
    services: ServicesDep,
    caller: CallerDep,
    jobs: JobsDep,
    key: IdempotencyHeader = None,
) -> CreatedGeneration:
    job = await create_from(body, services, caller, jobs, key, UNIVERSAL_PATH)
    return CreatedGeneration(id=job.id, meta=_meta(job))


GenerationId = Annotated[str, Query(min_length=1, max_length=200)]


@router.get(LEGACY_PATH, summary="Poll a generation (seed document path)")
async def poll_legacy(
    generation_id: GenerationId, services: ServicesDep, jobs: JobsDep
) -> GenerationOut:
    return await services.call(_poll, generation_id, jobs, services)


@router.get(UNIVERSAL_PATH, summary="Poll a generation (universal path)")
async def poll_universal(
    generation_id: GenerationId, services: ServicesDep, jobs: JobsDep
) -> GenerationOut:
    return await services.call(_poll, generation_id, jobs, services)


def _poll(job_id: str, jobs: TenantJobs, services: Services) -> GenerationOut:
    return generation_out(jobs.get(job_id), services)


def generation_out(job: Job, services: Services) -> GenerationOut:
    """A job in the AI/ML shape: only queued, generating, completed and error are shown."""
    out = GenerationOut(id=job.id, status="queued", meta=_meta(job), provider=job.request.provider)
    if job.status is JobStatus.COMPLETED and job.purged_at is not None:
        out.status, out.error = "completed", VIDEO_EXPIRED
    elif job.status is JobStatus.COMPLETED and job.video_key:
        out.status = "completed"
        out.video = VideoOut(url=services.storage.url(job.video_key))
    elif job.status is JobStatus.GENERATING:
        out.status = "generating"
    elif job.status in (JobStatus.ERROR, JobStatus.CANCELLED):
        out.status = "error"
        out.error = ErrorOut(
            name=job.error_name or "Cancelled", message=job.error_message or "cancelled"
        )
    return out


def _meta(job: Job) -> Meta:
    spec = SPECS.get(job.request.model)
    spent = 0.0 if spec is not None and not spec.legacy else None
    return Meta(usage=Usage(credits_used=job.request.usage_tokens, usd_spent=spent))
