"""The OpenAI-style videos API's bodies and objects (API.md section 4), as the official
`openai` SDK sends and reads them (`src/openai/types/video*.py` of openai-python)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictStr

from clipforge.api.accept.fields import Body, Sampling
from clipforge.errors import InvalidField
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


def form_values(form: list[tuple[str, Any]]) -> dict[str, Any]:
    """A form's (name, value) pairs as the JSON body they stand for: nested `a[b]` fields,
    numbers. A field given twice (`a` twice, `a` and `a[b]`) is refused, as a duplicate JSON
    key is: taking one of the two would ignore the other."""
    values: dict[str, Any] = {}
    form, loras = _without_loras(form)
    if loras is not None:
        values["loras"] = loras
    for name, value in form:
        outer, inner = name[:-1].split("[", 1) if "[" in name and name.endswith("]") else (name, "")
        into = values.setdefault(outer, {}) if inner else values
        key = inner or outer
        if not isinstance(into, dict) or key in into:
            raise InvalidField(outer, "given more than once")
        into[key] = value
    for name, kind in (("num_inference_steps", int), ("seed", int), ("guidance_scale", float)):
        if isinstance(values.get(name), str):
            values[name] = _number(values[name], kind)
    return values


LORA_FIELDS = ("loras[][name]", "loras[][scale]")
"""How the openai SDK sends `extra_body={"loras": [...]}` in a form (its "brackets" arrays):
every name in order, then every scale in order."""


def _without_loras(form: list[tuple[str, Any]]) -> tuple[list[tuple[str, Any]], Any]:
    """The form without its `loras[]` fields, and the list they stand for (None: none)."""
    rest = [(name, value) for name, value in form if not name.startswith("loras[]")]
    if len(rest) == len(form):
        return form, None
    names = [value for name, value in form if name == LORA_FIELDS[0]]
    scales = [_number(value, float) for name, value in form if name == LORA_FIELDS[1]]
    unknown = {name for name, _ in form if name.startswith("loras[]")} - set(LORA_FIELDS)
    if unknown or (scales and len(scales) != len(names)):
        raise InvalidField(
            "loras", "in a form: loras[][name] per adapter, loras[][scale] for all or none"
        )
    items: list[dict[str, Any]] = [{"name": name} for name in names]
    for item, scale in zip(items, scales, strict=False):
        item["scale"] = scale
    return rest, items


_INTEGER = re.compile(r"-?[0-9]{1,20}")
_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


def _number(text: str, kind: type) -> object:
    """ASCII digits only (`int()` alone would read other scripts' digits); anything else stays
    a string, which validation then refuses naming the field."""
    if kind is int and _INTEGER.fullmatch(text):
        return int(text)
    if kind is float and _DECIMAL.fullmatch(text):
        return float(text)
    return text
