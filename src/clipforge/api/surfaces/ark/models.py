"""The BytePlus ModelArk surface's request and response bodies (API.md section 3)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictBool, StrictStr

from clipforge.api.accept.fields import (
    ArkDuration,
    ArkFrames,
    Body,
    ExpiresAfter,
    FramesPerSecond,
    Loras,
    Priority,
    Seed,
)
from clipforge.schemas import FPS, JobStatus, Resolution
from clipforge.store.filters import JobFilter

CALLBACK_URL_MAX_CHARS = 2048
"""Longest callback_url taken (the common limit of browsers and proxies for a URL)."""

TaskStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]

STATUS_OUT: dict[JobStatus, TaskStatus] = {
    JobStatus.QUEUED: "queued",
    JobStatus.GENERATING: "running",
    JobStatus.COMPLETED: "succeeded",
    JobStatus.ERROR: "failed",
    JobStatus.CANCELLED: "cancelled",
}

STATUS_FILTERS: dict[TaskStatus, JobFilter] = {
    "queued": JobFilter(statuses=(JobStatus.QUEUED,)),
    "running": JobFilter(statuses=(JobStatus.GENERATING,)),
    "succeeded": JobFilter(statuses=(JobStatus.COMPLETED,)),
    "failed": JobFilter(statuses=(JobStatus.ERROR,), expired=False),
    "cancelled": JobFilter(statuses=(JobStatus.CANCELLED,)),
    "expired": JobFilter(statuses=(JobStatus.ERROR,), expired=True),
}
"""`filter.status` as the store filter that finds it (expired jobs are errors named Expired)."""

ServiceTier = Literal["default", "flex"]
"""Ark's `service_tier` (`schemas.SERVICE_TIERS`)."""

RatioIn = Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", "adaptive"]


class ImageUrl(Body):
    url: StrictStr = Field(min_length=1)


class DraftTask(Body):
    id: StrictStr = Field(min_length=1, max_length=200)


class ContentItem(Body):
    type: Literal["text", "image_url", "video_url", "audio_url", "draft_task"]
    text: StrictStr | None = None
    image_url: ImageUrl | None = None
    video_url: ImageUrl | None = None
    audio_url: ImageUrl | None = None
    draft_task: DraftTask | None = None
    role: (
        Literal[
            "first_frame", "last_frame", "reference_image", "reference_video", "reference_audio"
        ]
        | None
    ) = None


class Tool(Body):
    type: StrictStr


class CreateTaskBody(Body):
    """Create a task, as the BytePlus and Volcengine SDKs send it. JSON null means absent;
    every field is honoured or refused (an unknown field is a 400 naming it)."""

    model: StrictStr = Field(examples=["seedance-1-0-pro-250528"])
    content: list[ContentItem] = Field(min_length=1)
    resolution: Resolution | None = None
    ratio: RatioIn | None = None
    duration: ArkDuration | None = Field(
        None,
        description="Seconds: 2-12 (1.0), 4-12 (1.5), 4-15 (2.0); -1 (1.5, 2.x): the model picks.",
    )
    frames: ArkFrames | None = None
    framespersecond: FramesPerSecond | None = None
    seed: Seed | None = None
    camera_fixed: StrictBool | None = None
    watermark: StrictBool | None = None
    callback_url: StrictStr | None = Field(None, max_length=CALLBACK_URL_MAX_CHARS)
    return_last_frame: StrictBool | None = Field(
        None, description="The task object hands out the clip's last frame (last_frame_url)."
    )
    service_tier: ServiceTier | None = Field(
        None, description="flex: run after every default task (cheaper to serve)."
    )
    priority: Priority | None = None
    execution_expires_after: ExpiresAfter | None = None
    safety_identifier: StrictStr | None = Field(None, max_length=128)
    generate_audio: StrictBool | None = Field(
        None,
        description="A sound track; default true on 1.5 and 2.x where the backend makes sound.",
    )
    draft: StrictBool | None = Field(
        None, description="1.5 and 2.x: a 480p preview with half the steps, reusable as draft_task."
    )
    tools: list[Tool] | None = Field(None, max_length=0, description="No tools here: [] only.")
    output_format: Literal["mp4"] | None = None
    loras: Loras | None = None


class TaskId(BaseModel):
    id: str


class TaskContent(BaseModel):
    video_url: str | None = None
    """Null once the server's retention removed the video (`error.code` VideoExpired)."""
    last_frame_url: str | None = None
    """The clip's last frame (PNG), when the task asked for it (`return_last_frame`)."""


class TaskUsage(BaseModel):
    completion_tokens: int
    total_tokens: int


class TaskError(BaseModel):
    code: str
    message: str


class Task(BaseModel):
    id: str
    model: str
    status: TaskStatus
    content: TaskContent | None = None
    usage: TaskUsage
    created_at: int
    updated_at: int
    seed: int
    resolution: str
    ratio: str
    duration: int
    frames: int
    framespersecond: int = FPS
    service_tier: str
    priority: int
    execution_expires_after: int | None = None
    safety_identifier: str | None = None
    generate_audio: bool = False
    draft: bool = False
    tools: list[Tool] = Field(default_factory=list)
    output_format: str = "mp4"
    revised_prompt: str | None = None
    error: TaskError | None = None


class TaskList(BaseModel):
    total: int
    items: list[Task]
