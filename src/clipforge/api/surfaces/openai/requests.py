"""OpenAI create and extend bodies as generation requests: the model through the routing's
aliases, `size` rendered exactly, an extension starting from its source's last frame."""

from __future__ import annotations

from typing import Any

import numpy as np

from clipforge.api.accept.checks import check_model_id, check_prompt
from clipforge.api.accept.fields import Sampling
from clipforge.api.deps import Services
from clipforge.api.surfaces.openai.models import (
    DEFAULT_MODEL,
    DEFAULT_SECONDS,
    DEFAULT_SIZE,
    SIZES,
    VideoCreateBody,
    VideoExtendBody,
)
from clipforge.errors import InvalidField
from clipforge.routing.served import ServedModel
from clipforge.schemas import FRAME_SIZES, AspectRatio, GenerationRequest, Job, Resolution, new_seed

EXTENSION_PREFIX = "video:"
"""How an extension records its first frame: `video:<source id>#last_frame`."""


def _size(text: str) -> tuple[Resolution, AspectRatio, int, int]:
    if text not in SIZES:
        raise InvalidField("size", f"{text!r} is not a size served here", allowed=sorted(SIZES))
    width, height = SIZES[text]
    resolution = _resolution_of(min(width, height))
    table = FRAME_SIZES[resolution]
    ratio = min(AspectRatio, key=lambda r: abs(table[r][0] / table[r][1] - width / height))
    return resolution, ratio, width, height


def _resolution_of(short: int) -> Resolution:
    """The table's row a size's short side falls in (480p to 544, 720p to 960, 1080p to
    1440, above: 4k)."""
    for resolution, most in ((Resolution.P480, 544), (Resolution.P720, 960)):
        if short <= most:
            return resolution
    return Resolution.P1080 if short <= 1440 else Resolution.P4K


def _check_size(served: ServedModel, name: str, size: str, resolution: Resolution) -> None:
    """A size the model id does not offer (4k beyond 2.0, 1080p on the 2.x fast ids): a 400
    naming `size`, never a clip rendered at a size the id does not have."""
    offered = served.spec.resolutions
    if resolution not in offered:
        problem = f"{size} is {resolution.value}, which model {name!r} does not offer"
        raise InvalidField("size", problem, allowed=[r.value for r in offered])


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
    _check_size(served, name, body.size or DEFAULT_SIZE, resolution)
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
        loras=services.models.loras(served, body.loras),
        **_sampling(body),
    )
    services.models.check(request, "seconds")
    return request


def extension_request(
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
        loras=services.models.loras(served, body.loras),
    )
    services.models.check(request, "seconds")
    return request


def _nearest_size(frame: np.ndarray) -> dict[str, Any]:
    height, width = frame.shape[:2]
    text = min(SIZES, key=lambda s: abs(SIZES[s][0] - width) + abs(SIZES[s][1] - height))
    resolution, ratio, exact_w, exact_h = _size(text)
    return {"resolution": resolution, "aspect_ratio": ratio, "width": exact_w, "height": exact_h}
