"""The BytePlus ModelArk surface's request and response bodies (API.md section 3)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from clipforge.api.fields import Duration, ExpiresAfter, FramesPerSecond, Seed
from clipforge.schemas import FPS, JobStatus, Resolution
from clipforge.store.filters import JobFilter

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

RatioIn = Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", "adaptive"]


class ImageUrl(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: StrictStr = Field(min_length=1)


class ContentItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text", "image_url"]
    text: StrictStr | None = None
    image_url: ImageUrl | None = None
    role: Literal["first_frame", "last_frame", "reference_image"] | None = None


class CreateTaskBody(BaseModel):
    """Create a task. JSON null means absent. `return_last_frame`, `service_tier` and
    `frames` are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field(examples=["seedance-1-0-pro-250528"])
    content: list[ContentItem] = Field(min_length=1)
    resolution: Resolution | None = None
    ratio: RatioIn | None = None
    duration: Duration | None = None
    framespersecond: FramesPerSecond | None = None
    seed: Seed | None = None
    camera_fixed: StrictBool | None = None
    watermark: StrictBool | None = None
    callback_url: StrictStr | None = None
    return_last_frame: StrictBool | None = None
    service_tier: StrictStr | None = None
    execution_expires_after: ExpiresAfter | None = None
    frames: StrictInt | None = Field(None, ge=1, le=1000)


class TaskId(BaseModel):
    id: str


class TaskContent(BaseModel):
    video_url: str | None = None
    """Null once the server's retention removed the video (`error.code` VideoExpired)."""


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
    framespersecond: int = FPS
    error: TaskError | None = None


class TaskList(BaseModel):
    total: int
    items: list[Task]
