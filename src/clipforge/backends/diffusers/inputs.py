"""The request as the pipeline takes it: the prompt (with the camera-fixed sentence), the
frame count, and the images checked against what the model family renders from."""

from __future__ import annotations

from clipforge.backends.base import Capabilities, ImageInput
from clipforge.backends.diffusers.rules import ModelFamily
from clipforge.errors import GenerationFailed

CAMERA_FIXED_SUFFIX = "The camera stays fixed: a static shot, no pan, no zoom, no camera movement."
"""Appended to the prompt when camera_fixed is set, as the hosted service does: Wan and LTX
have no camera conditioning, so this is a prompt augmentation and its effect is not assured."""


def native_frame_count(duration: float, family: ModelFamily, cap: int | None = None) -> int:
    """The valid frame count nearest to duration * fps + 1, at most `cap` when given, and never
    below the shortest valid clip (frame_step + 1 frames)."""
    step = family.frame_step
    frames = round(duration * family.fps / step) * step + 1
    if cap is not None:
        frames = min(frames, (cap - 1) // step * step + 1)
    return max(frames, step + 1)


def augment_prompt(prompt: str, camera_fixed: bool) -> str:
    """The prompt the pipeline receives: with CAMERA_FIXED_SUFFIX when camera_fixed is set."""
    if not camera_fixed:
        return prompt
    text = prompt.rstrip()
    separator = " " if text.endswith((".", "!", "?")) else ". "
    return f"{text}{separator}{CAMERA_FIXED_SUFFIX}"


def check_images(family: ModelFamily, capabilities: Capabilities, images: ImageInput) -> None:
    """The images a job brought, refused where the family cannot render from them."""
    images.refuse_untaken(family.name, capabilities)
    if images.last is not None and images.first is None:
        raise GenerationFailed(f"{family.name} takes a last frame only with a first frame")
    if family.needs_last_frame and images.first is not None and images.last is None:
        raise GenerationFailed(
            f"{family.name} renders between a first and a last frame: send both "
            "(image_url and last_image_url)"
        )
    if family.needs_image and images.first is None:
        raise GenerationFailed(
            f"{family.name} renders from a first frame (image-to-video weights); "
            "send image_url, or serve text-to-video requests with other weights"
        )
