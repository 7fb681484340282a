"""The OpenAI-style videos API's bodies and objects (API.md section 4), as the official
`openai` SDK sends and reads them (`src/openai/types/video*.py` of openai-python)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictStr

from clipforge.api.accept.fields import Body, Sampling
from clipforge.schemas import FRAME_SIZES

SECONDS = ("4", "8", "12")
OPENAI_SIZES = {
    "1280x720": (1280, 720),
    "720x1280": (720, 1280),
    "1792x1024": (1792, 1024),
    "1024x1792": (1024, 1792),
}
TABLE_SIZES = {f"{w}x{h}": (w, h) for sizes in FRAME_SIZES.values() for (w, h) in sizes.values()}
SIZES = {**OPENAI_SIZES, **TABLE_SIZES}
"""`size` values taken: OpenAI's four, and every size of the Seedance table (exact)."""
DEFAULT_MODEL, DEFAULT_SECONDS, DEFAULT_SIZE = "sora-2", "4", "720x1280"

VideoStatus = Literal["queued", "in_progress", "completed", "failed"]


class ImageReference(Body):
    image_url: StrictStr = Field(min_length=1, description="An http(s) or data: URL.")


class VideoReference(Body):
    id: StrictStr = Field(min_length=1, max_length=200)


class VideoCreateBody(Sampling):
    """Create a video (JSON, or multipart/form-data as the SDK sends it)."""

    prompt: StrictStr = Field(min_length=1)
    model: StrictStr | None = Field(None, description=f"Default {DEFAULT_MODEL}.")
    seconds: Literal["4", "8", "12"] | None = Field(None, description="Default 4.")
    size: StrictStr | None = Field(None, description="WIDTHxHEIGHT; default 720x1280.")
    input_reference: ImageReference | None = Field(None, description="The first frame.")


class VideoRemixBody(Body):
    prompt: StrictStr = Field(min_length=1)


class VideoExtendBody(Sampling):
    """Extend a video: `video` is `{id}` of a finished video here, or (a form's file part) a
    video file; the new clip starts from its last frame."""

    prompt: StrictStr = Field(min_length=1)
    seconds: Literal["4", "8", "12"]
    video: VideoReference | None = None


class VideoError(BaseModel):
    code: str
    message: str


class Video(BaseModel):
    id: str
    object: Literal["video"] = "video"
    model: str
    status: VideoStatus
    progress: int
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = None
    prompt: str | None = None
    seconds: str
    size: str
    remixed_from_video_id: str | None = None
    error: VideoError | None = None


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    deleted: bool = True
    object: Literal["video.deleted"] = "video.deleted"
