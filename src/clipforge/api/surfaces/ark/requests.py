"""Ark create bodies -> one `GenerationRequest` (text commands, JSON fields, model ids).

Parameters come as JSON fields or as text commands at the end of the prompt
(`... --rs 720p --rt 16:9 --dur 5`). When both name the same parameter the JSON field wins:
the body is Ark's newer, strictly validated way and the text commands its older one, so a
client that sets a field explicitly means it. Either way a bad value is a 400 naming the
field or the text command (`param`).

Model ids: any id starting with `seedance-1-0-` maps to the catalogue's Seedance 1.0 model of
the same family (`lite`, `pro-fast`, else `pro`; `i2v` ids to the image-to-video ones); the dated
1.5 and 2.0 ids map as `seedance_models.ARK_IDS` says. The Ark id is kept in the request
(`client_model`) to be echoed back. The 1.0 ids keep their rules (2-12 s, no 4k, no sound, no
draft); the newer ones follow their row of `seedance_models.py` (`duration: -1`: the id's
default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clipforge.api.accept.checks import check_images, check_model_id, check_prompt
from clipforge.api.accept.media import Image
from clipforge.api.accept.seedance_fields import check_placeholders
from clipforge.api.accept.submit import ImageField
from clipforge.api.deps import Services
from clipforge.api.surfaces.ark.commands import split_text_commands, text_command_values
from clipforge.api.surfaces.ark.models import CreateTaskBody
from clipforge.api.surfaces.ark.newer import newer_values
from clipforge.errors import InvalidField
from clipforge.routing.served import ServedModel
from clipforge.schemas import AspectRatio, GenerationRequest, new_seed
from clipforge.seedance_models import ARK_IDS

ARK_MODEL_PREFIX = "seedance-1-0-"


def served_model_id(ark_model: str, wants_images: bool) -> str:
    """The catalogue id an Ark model id stands for (see the module docstring)."""
    if ark_model in ARK_IDS:
        return ARK_IDS[ark_model]
    if not ark_model.startswith(ARK_MODEL_PREFIX):
        known = ", ".join(ARK_IDS)
        raise InvalidField(
            "model",
            f"model {ark_model!r} is not served here (ids start with {ARK_MODEL_PREFIX!r}, "
            f"or one of {known})",
        )
    rest = ark_model[len(ARK_MODEL_PREFIX) :]
    family = "lite" if rest.startswith("lite") else "pro"
    if "i2v" in rest.split("-"):
        return f"bytedance/seedance-1-0-{family}-i2v"
    if family == "pro" and rest.startswith("pro-fast"):
        return "bytedance/seedance-1-0-pro-fast"
    if wants_images:
        return f"bytedance/seedance-1-0-{family}-i2v"
    return f"bytedance/seedance-1-0-{family}-t2v"


@dataclass(frozen=True)
class AskedTask:
    """What a create body asks for: the request (its aspect ratio still 16:9 when `adaptive`),
    the images to take in, and whether the ratio is to follow the first image."""

    request: GenerationRequest
    images: list[ImageField]
    adaptive: bool
    stored: list[Image] = field(default_factory=list)
    """Images already stored (a draft's, for its full render): taken as they are."""


def to_generation_request(body: CreateTaskBody, services: Services) -> AskedTask:
    """The request a create body asks for; InvalidField (400) naming the field otherwise."""
    prompt, commands = _prompt_and_commands(body, services.settings.max_prompt_chars)
    images = image_fields(body)
    frames = [image for image in images if not image.which.startswith("ref")]
    model_id = served_model_id(check_model_id(body.model), wants_images=bool(frames))
    try:
        served = services.models.require(model_id)
    except InvalidField:
        if not images:
            raise
        raise InvalidField(
            images[0].field, f"model {body.model!r} takes no image input here (text only)"
        ) from None
    _check_references(images, served)
    references = sum(1 for image in images if image.which.startswith("ref"))
    if references:  # served by the id's reference weights (Wan VACE under catalogue)
        served = served.with_references()
        check_placeholders(prompt, references, "content")
    first = next((i for i in images if i.which == "first"), None)
    last = next((i for i in images if i.which == "last"), None)
    check_images(
        served,
        (first.field if first else "content", first.url if first else None),
        (last.field if last else "content", last.url if last else None),
    )
    values = _parameters(body, commands)
    values |= newer_values(served, body, values, commands)
    values |= _length(body, values)
    ratio = values.pop("ratio", None)
    seed = new_seed(values.pop("seed", None))
    if any(item.type == "draft_task" for item in body.content):
        raise InvalidField("content", "a draft_task item goes alone with its model")
    request = GenerationRequest(
        model=served.id,
        client_model=body.model,
        prompt=prompt,
        aspect_ratio=AspectRatio.WIDE if ratio in (None, "adaptive") else AspectRatio(ratio),
        seed=seed,
        return_last_frame=bool(body.return_last_frame),
        safety_identifier=body.safety_identifier,
        loras=services.models.loras(served, body.loras),
        **values,
    )
    services.models.check(request, "frames" if body.frames is not None else "duration")
    adaptive = ratio == "adaptive" or (ratio is None and bool(frames))
    return AskedTask(request, images, adaptive)


def _prompt_and_commands(
    body: CreateTaskBody, max_chars: int
) -> tuple[str, dict[str, tuple[str, str]]]:
    texts = [item for item in body.content if item.type == "text"]
    if len(texts) != 1 or not (texts[0].text or "").strip():
        raise InvalidField("content", "exactly one text item with a prompt is required")
    prompt, commands = split_text_commands(texts[0].text or "", max_chars)
    if not prompt:
        raise InvalidField("content", "the text item has no prompt before its commands")
    return check_prompt(prompt, "content", max_chars), commands


ROLES = {None: "first", "first_frame": "first", "last_frame": "last", "reference_image": "ref"}
"""Content image roles and the image each gives; an image without a role is the first frame,
as Ark has it. Reference images are numbered `ref1`... in the order they come."""


def image_fields(body: CreateTaskBody) -> list[ImageField]:
    """The content's image items as the frames and references they give, each named by its
    place; video and audio items are refused by name (no backend here takes them yet)."""
    fields: list[ImageField] = []
    for index, item in enumerate(body.content):
        if item.type in ("video_url", "audio_url"):
            raise InvalidField(f"content[{index}].{item.type}", "no video or audio input here yet")
        if item.type != "image_url":
            continue
        field = f"content[{index}].image_url"
        if item.image_url is None:
            raise InvalidField(field, "an image_url item needs image_url.url")
        if item.role not in ROLES:
            raise InvalidField(f"content[{index}].role", f"{item.role} is not supported here")
        which = ROLES[item.role]
        if which == "ref":
            which = f"ref{sum(f.which.startswith('ref') for f in fields) + 1}"
        elif any(f.which == which for f in fields):
            raise InvalidField(field, f"more than one {which} frame image")
        fields.append(ImageField(field, which, item.image_url.url))
    return fields


def _check_references(images: list[ImageField], served: ServedModel) -> None:
    """More reference images than the model (and its backend) take: a 400 naming the role
    of the first one too many."""
    references = [image for image in images if image.which.startswith("ref")]
    if len(references) > served.references:
        taken = served.references
        field = references[taken].field.replace(".image_url", ".role")
        problem = f"at most {taken} reference images" if taken else "no reference images"
        raise InvalidField(field, f"reference_image: model {served.id!r} takes {problem} here")


def _length(body: CreateTaskBody, values: dict[str, Any]) -> dict[str, int]:
    """Ark's `frames` (25 + 4n, at 24 fps) instead of `duration`, never both."""
    if body.frames is None:
        return {}
    if "duration" in values:
        raise InvalidField("frames", "give duration or frames, not both")
    if (body.frames - 25) % 4:
        raise InvalidField("frames", f"{body.frames} is not 25 + 4n (29, 33, ..., 289)")
    return {"frame_count": body.frames, "duration": max(1, round((body.frames - 1) / 24))}


_JSON_PARAMETERS = {"resolution", "ratio", "duration", "seed", "camera_fixed", "watermark"}


def _parameters(body: CreateTaskBody, commands: dict[str, tuple[str, str]]) -> dict[str, Any]:
    # JSON fields win over text commands (module docstring); JSON null means absent.
    values = text_command_values(commands)
    values.update(body.model_dump(exclude_none=True, include=_JSON_PARAMETERS))
    values.pop("framespersecond", None)
    return values
