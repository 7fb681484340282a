"""One pipeline call, as diffusers expects it: arguments, images, flow shift, frames out.

- Guidance: `guidance_scale_2` goes only to a pipeline with two experts (its config has a
  `boundary_ratio`); the single-expert Wan pipelines and LTX refuse the argument.
- Images: Wan text-to-video pipelines take a first frame through their image-to-video twin
  (WanImageToVideoPipeline built on the same loaded modules and config flags, so Wan 2.2 TI2V
  5B keeps its `expand_timesteps`; not `from_pipe`, which casts every shared module to one
  dtype), LTXPipeline through LTXImageToVideoPipeline, LTXConditionPipeline as conditions (the
  first frame at index 0, the last at the last index).
- Wan VACE takes a first and last frame as a conditioning video and mask (the frames kept,
  gray frames between to generate, as diffusers' WanVACEPipeline example builds them) and the
  reference images as a list, in the order sent.
- HunyuanVideo 1.5 pipelines take no `guidance_scale` (their saved guider holds it), no
  `callback_on_step_end` (progress comes from the scheduler's step) and, for image-to-video,
  no size (the image's bucket at the pipeline's `target_size`): `call_pipeline` adapts.
- Flow shift: the scheduler gets the family's shift for the native size rendered.
- Frames: the pipeline returns the decoded video on its device (`output_type="pt"`); each
  frame becomes uint8 there and is copied to the host one at a time, as the encoder takes it.
- Sound (LTX-2): the pipeline also returns the vocoder's waveform (batch, channels, samples)
  at `vocoder.config.output_sampling_rate`, from the first frame on; it becomes one mono
  float32 track (the MP4's AAC stream is mono), fitted to the clip's length by the video layer.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from clipforge.backends.base import ImageInput, ProgressCallback
from clipforge.backends.diffusers.rules import ModelFamily

SCHEDULER_LOGGER = "diffusers.schedulers.scheduling_flow_match_euler_discrete"


class _PublishedTimesteps(logging.Filter):
    """Drops diffusers' "`timesteps` were passed without `sigmas`" warning, printed on every
    call of a step-distilled recipe: the published recipes pass their timesteps alone, on
    purpose (LTX's configs and diffusers' own LTX examples)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "were passed without `sigmas`" not in record.getMessage()


def quiet_published_timesteps() -> None:
    """Install the filter once (idempotent)."""
    logger = logging.getLogger(SCHEDULER_LOGGER)
    if not any(isinstance(f, _PublishedTimesteps) for f in logger.filters):
        logger.addFilter(_PublishedTimesteps())


WAN_IMAGE_PIPELINE = "WanImageToVideoPipeline"
LTX_IMAGE_PIPELINE = "LTXImageToVideoPipeline"
LTX_CONDITION_PIPELINE = "LTXConditionPipeline"
LTX2_CONDITION_PIPELINE = "LTX2ConditionPipeline"
CONDITION_PIPELINES = (LTX_CONDITION_PIPELINE, LTX2_CONDITION_PIPELINE)
WAN_VACE_PIPELINE = "WanVACEPipeline"
TAKE_IMAGES = {
    WAN_IMAGE_PIPELINE,
    *CONDITION_PIPELINES,
    LTX_IMAGE_PIPELINE,
    WAN_VACE_PIPELINE,
    "HunyuanVideo15ImageToVideoPipeline",
}
"""Pipelines that take their images themselves (no image-to-video twin needed)."""


@dataclass(frozen=True)
class Rendered:
    """What one pipeline call gave: the decoded frames and, from LTX-2, the waveform."""

    frames: Any
    audio: Any = None

    @classmethod
    def of(cls, output: Any) -> Rendered:
        return cls(output.frames, getattr(output, "audio", None))


def audio_rate(pipeline: Any) -> int:
    """The waveform's sample rate: the vocoder's output rate (LTX-2: 24 kHz; 2.3: 48 kHz)."""
    return int(pipeline.vocoder.config.output_sampling_rate)


def mono_waveform(audio: torch.Tensor) -> np.ndarray:
    """The first clip's waveform (channels, samples), its channels averaged, as float32."""
    track = audio[0].to(dtype=torch.float32, copy=True)
    track = track.mean(dim=0) if track.ndim == 2 else track.reshape(-1)
    return track.nan_to_num_(0.0).cpu().numpy()


def class_names(pipeline: Any) -> set[str]:
    return {cls.__name__ for cls in type(pipeline).__mro__}


def two_experts(pipeline: Any) -> bool:
    """Wan 2.2 A14B (T2V or I2V): a second transformer and the boundary where it takes over."""
    config = getattr(pipeline, "config", None)
    return getattr(config, "boundary_ratio", None) is not None


def guidance_arguments(
    pipeline: Any, family: ModelFamily, override: float | None
) -> dict[str, float]:
    """guidance_scale (the setting, else the family's) and, on two-expert pipelines only,
    guidance_scale_2 (the setting on both experts, else the family's second value)."""
    first = override if override is not None else family.guidance_scale
    arguments = {} if first is None else {"guidance_scale": first}
    if two_experts(pipeline):
        second = override if override is not None else family.guidance_scale_2
        if second is not None:
            arguments["guidance_scale_2"] = second
    return arguments


def image_pipeline(pipeline: Any) -> Any:
    """The pipeline that takes images and shares `pipeline`'s loaded modules."""
    names = class_names(pipeline)
    if names & TAKE_IMAGES:
        return pipeline
    import diffusers

    twin = getattr(diffusers, WAN_IMAGE_PIPELINE if "WanPipeline" in names else LTX_IMAGE_PIPELINE)
    accepted = inspect.signature(twin.__init__).parameters
    components = {k: v for k, v in pipeline.components.items() if k in accepted}
    flags = {
        k: pipeline.config[k] for k in accepted if k in pipeline.config and k not in components
    }
    variant = twin(**components, **flags)
    variant.set_progress_bar_config(disable=True)
    return variant


def image_arguments(
    pipeline: Any, images: ImageInput, width: int, height: int, num_frames: int
) -> dict[str, Any]:
    """The image arguments of `pipeline`'s call, the images resized to the native size."""
    first = _picture(images.first, width, height)
    last = _picture(images.last, width, height)
    if LTX2_CONDITION_PIPELINE in class_names(pipeline):
        return {"conditions": ltx2_conditions(first, last)}
    if WAN_VACE_PIPELINE in class_names(pipeline):
        return vace_arguments(images, first, last, num_frames)
    if LTX_CONDITION_PIPELINE in class_names(pipeline):
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        conditions = [LTXVideoCondition(image=first, frame_index=0)] if first else []
        if last is not None:
            conditions.append(LTXVideoCondition(image=last, frame_index=num_frames - 1))
        return {"conditions": conditions}
    arguments: dict[str, Any] = {"image": first}
    if last is not None:
        arguments["last_image"] = last
    return arguments


def ltx2_conditions(first: Any, last: Any) -> list[Any]:
    """LTX-2 frame conditions at full strength: the first frame on the first latent frame, the
    last on the last (-1: LTX-2's indices count latent frames, unlike LTX-Video's pixel frames;
    the pipeline re-compresses each image at the model's training CRF)."""
    from diffusers.pipelines.ltx2 import LTX2VideoCondition

    pinned = [(first, 0), (last, -1)]
    return [LTX2VideoCondition(frames=image, index=at) for image, at in pinned if image is not None]


def vace_arguments(
    images: ImageInput, first: Image.Image | None, last: Image.Image | None, num_frames: int
) -> dict[str, Any]:
    """WanVACEPipeline's `reference_images` (as sent, in order: the pipeline fits each on a
    white canvas) and, with a first or last frame, the conditioning `video` and `mask`."""
    arguments: dict[str, Any] = {}
    if images.references:
        arguments["reference_images"] = [_picture(r, *r.shape[1::-1]) for r in images.references]
    if first is None and last is None:
        return arguments
    size = (first or last).size  # type: ignore[union-attr]
    gray = Image.new("RGB", size, (128, 128, 128))  # the example's 127.5, as a PIL image
    keep, make = Image.new("L", size, 0), Image.new("L", size, 255)
    video, mask = [gray] * num_frames, [make] * num_frames
    for index, frame in ((0, first), (num_frames - 1, last)):
        if frame is not None:
            video[index], mask[index] = frame, keep
    return arguments | {"video": video, "mask": mask}


def call_pipeline(pipeline: Any, arguments: dict[str, Any]) -> Rendered:
    """`pipeline(**arguments)`'s frames (and waveform), the arguments it has no parameter for
    given another way (module docstring): guidance to its guider (for this call), the step
    callback through its scheduler, the size dropped (the image, already at the native size,
    decides it)."""
    accepted = inspect.signature(pipeline.__call__).parameters
    arguments = dict(arguments)
    guidance = None if "guidance_scale" in accepted else arguments.pop("guidance_scale", None)
    if "width" not in accepted:
        arguments.pop("width", None)
        arguments.pop("height", None)
    callback = None
    if "callback_on_step_end" not in accepted:
        callback = arguments.pop("callback_on_step_end", None)
    with _guided(pipeline, guidance), _scheduler_steps(pipeline, callback):
        return Rendered.of(pipeline(**arguments))


@contextmanager
def _guided(pipeline: Any, guidance: float | None) -> Iterator[None]:
    """The pipeline's saved guider at `guidance` for the block (None: as saved)."""
    saved = getattr(pipeline, "guider", None)
    if guidance is None or saved is None or saved.guidance_scale == guidance:
        yield
        return
    pipeline.guider = saved.new(guidance_scale=guidance)
    try:
        yield
    finally:
        pipeline.guider = saved


@contextmanager
def _scheduler_steps(pipeline: Any, callback: Any) -> Iterator[None]:
    """Call `callback` (a callback_on_step_end) after each of the scheduler's steps."""
    if callback is None:
        yield
        return
    scheduler = pipeline.scheduler
    step, done = scheduler.step, [0]

    def counted(*args: Any, **kwargs: Any) -> Any:
        out = step(*args, **kwargs)
        callback(pipeline, done[0], None, {})
        done[0] += 1
        return out

    scheduler.step = counted
    try:
        yield
    finally:
        del scheduler.step  # the class's own again


def _picture(array: np.ndarray | None, width: int, height: int) -> Image.Image | None:
    if array is None:
        return None
    picture = Image.fromarray(np.ascontiguousarray(array[..., :3]), mode="RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    return picture


def set_flow_shift(pipeline: Any, shift: float | None, cache: dict[float, Any]) -> None:
    """Give `pipeline` a scheduler with `shift` (kept per shift in `cache`), when its
    scheduler has a flow shift (Wan's UniPC `flow_shift`, HunyuanVideo 1.5's flow-matching
    Euler `shift`) and `shift` differs from it."""
    scheduler = pipeline.scheduler
    key = next((k for k in ("flow_shift", "shift") if k in scheduler.config), None)
    if shift is None or key is None or scheduler.config[key] == shift:
        return
    if shift not in cache:
        cache[shift] = type(scheduler).from_config(scheduler.config, **{key: shift})
    pipeline.scheduler = cache[shift]


def step_callback(progress: ProgressCallback, total: int, offset: int = 0) -> Any:
    """A callback_on_step_end that reports progress (step + offset of total); whatever
    progress raises (JobCancelled) propagates, so nothing is decoded after a cancel."""

    def on_step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        progress(offset + step + 1, total)
        return {}

    return on_step_end


def uint8_frames(video: torch.Tensor) -> tuple[int, int, int, Iterator[np.ndarray]]:
    """(width, height, count, frames) of a decoded video (batch, frames, channels, height,
    width) in [0, 1] on its device: each frame is made uint8 on the device, then copied."""
    clip = video[0]
    count, _, height, width = clip.shape
    return width, height, count, _stream(clip)


def _stream(clip: torch.Tensor) -> Iterator[np.ndarray]:
    for index in range(clip.shape[0]):
        # A copy: the pipeline's output is an inference tensor, read here outside that mode.
        frame = clip[index].to(dtype=torch.float32, copy=True)
        frame = frame.nan_to_num_(0.0).clamp_(0.0, 1.0).mul_(255.0).round_()
        yield frame.to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()
