"""The native surface's response bodies: served models (with their LoRA adapters), jobs
with their progress, pages of jobs, liveness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from clipforge.schemas import GenerationRequest


class LoraOut(BaseModel):
    """A LoRA adapter the operator declared for a model (requests name it in `loras`)."""

    name: str
    scale: float
    """The scale a request that names none gets."""
    status: Literal["loaded", "failed", "declared"]
    """loaded: the live workers holding the model loaded it; failed: one could not (`error`
    says why; requests naming it get a 400); declared: no live worker holds the model now."""
    error: str | None = None


class ModelOut(BaseModel):
    """A served model id, in the OpenAI models list shape, with ClipForge's own fields."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "clipforge"
    backend: str
    weights: str | None
    image_input: bool
    """An image-to-video id: `image_url` (the first frame) is required."""
    last_frame: bool
    """Also takes `last_image_url`."""
    max_duration: int
    """The longest clip in seconds: what the id allows, within what its backend renders (in
    one pass, or in segments from the last frame where it takes images)."""
    single_pass: int
    """The longest clip the backend renders in one pass."""
    durations: list[int]
    """The durations the id takes (`seedance_models.py`; those above `max_duration` are
    refused by this server's backend)."""
    default_duration: int
    resolutions: list[str]
    default_resolution: str
    aspect_ratios: list[str]
    """The ratios the id takes, with `adaptive` (the first image's) where it has it."""
    first_frame: Literal["required", "optional", "none"]
    """`image_url`: required (image-to-video ids), optional (1.5 and 2.x where the backend
    takes images), or none."""
    sound: bool
    """`generate_audio` defaults to true (the id makes sound and so does its backend)."""
    reference_images: int
    """How many `image_urls` it takes (0: none)."""
    reference_weights: str | None = None
    """The weights a request with reference images renders with, where they are not `weights`
    (Wan VACE under CLIPFORGE_MODEL=catalogue); null: `weights`."""
    loras: list[LoraOut] = []
    """The LoRA adapters declared for it: requests name them in `loras` (unless fixed)."""
    loras_fixed: bool = False
    """The adapters always apply, fused into the weights: requests choose none."""
    notes: list[str] = []
    """What the operator should know about the weights (`two-stage: off, ...`)."""


class ModelList(BaseModel):
    """`GET /v1/models` as the openai SDK's `models.list()` reads it."""

    object: Literal["list"] = "list"
    data: list[ModelOut]


class Progress(BaseModel):
    step: int
    total: int


class JobOut(BaseModel):
    id: str
    status: str
    request: GenerationRequest
    progress: Progress
    phase: str | None
    """queued and finished: null; running: loading, denoising, encoding or uploading."""
    queue_position: int | None
    """Jobs ahead of this one in the queue (0: next); null unless queued."""
    eta_seconds: float | None
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    video_url: str | None
    poster_url: str | None
    """A small still of the clip (WebP), for a gallery."""
    video_expired: bool
    """True once retention removed the video (then `video_url` is null)."""
    error: dict[str, str] | None
    backend: str | None
    timings: dict[str, float]
    worker_crashes: int
    """Attempts that ended because their worker died or stopped responding."""
    reading: dict[str, object]
    """What the model made of the request, once a worker has it: `prompt` (the prompt it
    used), `negative_prompt`, and for the built-in model `attributes` and `unused_words`."""


class JobList(BaseModel):
    """A page of jobs, newest first."""

    data: list[JobOut]
    limit: int
    offset: int
    has_more: bool


class Health(BaseModel):
    status: str
    version: str
