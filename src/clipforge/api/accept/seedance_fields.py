"""The fields Seedance 1.5 and 2.x added to the AI/ML body (API.md section 4b), checked per
model against `seedance_models.py`: what an id takes is honoured, the rest is a 400 naming
the field. Media no backend here takes (`video_urls`, `audio_urls`, `video_url`,
`audio_url`) is refused by name rather than accepted and dropped."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, StrictStr, WithJsonSchema
from pydantic_core import PydanticCustomError

from clipforge.api.accept.submit import ImageField
from clipforge.errors import InvalidField
from clipforge.placeholders import highest_placeholder
from clipforge.routing.served import ServedModel
from clipforge.schemas import MAX_SECONDS
from clipforge.seedance_models import ModelSpec

RatioIn = Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", "adaptive"]
"""Every ratio any id takes; which one an id takes is its row's (`ModelSpec.check_ratio`)."""
Provider = Literal["bytedance", "fal", "auto"]
"""AI/ML's `provider`: accepted and echoed (this server is the one provider)."""


def _seconds(value: object) -> int:
    if type(value) is not int or not 1 <= value <= MAX_SECONDS:  # not a bool, not 5.0
        raise PydanticCustomError(
            "int_type",
            "Input should be whole seconds: 5 or 10 (1.0 ids), 4-12 (1.5), 4-15 (2.0), 4-30 (2.5)",
        )
    return value


Seconds = Annotated[
    int,
    PlainValidator(_seconds),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_SECONDS}),
]
"""A duration in whole seconds; which ones an id takes is its row's (`ModelSpec.durations`)."""

References = Annotated[list[StrictStr], Field(min_length=1, max_length=9)]
MediaList = Annotated[list[Any], Field(max_length=3)]

UNTAKEN_MEDIA = ("video_urls", "audio_urls", "video_url", "audio_url")
"""Media fields of the 2.0 body that no backend here takes yet."""


def refuse_untaken_media(present: dict[str, object], served: ServedModel) -> None:
    for field in UNTAKEN_MEDIA:
        if present.get(field) is not None:
            raise InvalidField(field, f"model {served.id!r} takes no video or audio input here")


def reference_fields(urls: list[str] | None, served: ServedModel, field: str) -> list[ImageField]:
    """Reference images as image fields (`ref1`...), or a 400 naming `field` where the model
    (or its backend) takes none or fewer."""
    if not urls:
        return []
    taken = served.references
    if not taken:
        raise InvalidField(field, f"model {served.id!r} takes no reference images here")
    if len(urls) > taken:
        raise InvalidField(field, f"model {served.id!r} takes at most {taken} reference images")
    return [ImageField(f"{field}[{n}]", f"ref{n + 1}", url) for n, url in enumerate(urls)]


def check_placeholders(prompt: str, references: int, field: str) -> None:
    """A prompt naming @ImageN beyond the N reference images sent: a 400 naming `field`
    (the prompt's @Image1... are the references in the order sent)."""
    named = highest_placeholder(prompt)
    if references and named > references:
        raise InvalidField(
            field, f"names @Image{named} but {references} reference images were sent"
        )


def picked(spec: ModelSpec, resolution: Any, ratio: str | None, duration: int | None) -> dict:
    """Resolution, ratio and duration as the request records them: checked against the id's
    row, its defaults where absent (`adaptive` and absent: 16:9 until an image says more)."""
    values: dict[str, Any] = {
        "resolution": spec.check_resolution(resolution) if resolution else spec.default_resolution,
        "duration": spec.check_duration(duration)
        if duration is not None
        else spec.default_duration,
    }
    if ratio is not None and spec.check_ratio(ratio) != "adaptive":
        values["aspect_ratio"] = ratio
    return values
