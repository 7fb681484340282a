"""`diffusers`: open-weight text-to-video models (Wan 2.1/2.2, LTX-Video, ...) through diffusers.

The pipeline is loaded once from `settings.model` (a catalogue name, a folder or a hub id; see
`diffusers_loading`), placed on its device with the speed options (`diffusers_options`) and
kept warm. What differs between models (frame rate, frame-count rule, size multiple, native
size, sampling defaults) is data: the catalogue entry's rules (`diffusers_catalog`), else the
family of the pipeline class; a pipeline of any other class gets a generic family derived from
its VAE scale factors.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from clipforge.backends.base import (
    NO_IMAGES,
    Backend,
    Capabilities,
    Clip,
    GenerationPlan,
    ImageInput,
    ProgressCallback,
)
from clipforge.backends.devices import resolve_device
from clipforge.backends.diffusers_catalog import (
    FAMILIES,
    LTX,
    LTX_NEGATIVE_PROMPT,
    WAN,
    WAN_NEGATIVE_PROMPT,
    CatalogEntry,
    ModelFamily,
)
from clipforge.backends.diffusers_loading import (
    HOW_TO_CONFIGURE,
    load_pipeline,
    resolve_dtype,
    resolve_weights,
)
from clipforge.backends.diffusers_options import SpeedOptions, apply_options, reset_step_caches
from clipforge.backends.geometry import native_size
from clipforge.errors import ClipForgeError, GenerationFailed, ModelUnavailable, WorkerFailure
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings

__all__ = [
    "CAMERA_FIXED_SUFFIX",
    "FAMILIES",
    "HOW_TO_CONFIGURE",
    "LTX",
    "LTX_NEGATIVE_PROMPT",
    "WAN",
    "WAN_NEGATIVE_PROMPT",
    "DiffusersBackend",
    "ModelFamily",
    "augment_prompt",
    "detect_family",
    "generic_family",
    "native_frame_count",
    "native_size",
    "resolve_device",
    "resolve_dtype",
]

CAMERA_FIXED_SUFFIX = "The camera stays fixed: a static shot, no pan, no zoom, no camera movement."
"""Appended to the prompt when camera_fixed is set, as the hosted service does: Wan and LTX
have no camera conditioning, so this is a prompt augmentation and its effect is not assured."""


def detect_family(pipeline: Any, entry: CatalogEntry | None = None) -> ModelFamily:
    """The catalogue entry's rules, else the family whose pipeline class is the pipeline's
    class or a base; either way with the size and frame rules made coarser where the loaded
    VAE needs it (Wan 2.2 TI2V: 16x VAE)."""
    derived = generic_family(pipeline)
    names = {cls.__name__ for cls in type(pipeline).__mro__}
    known = [entry.rules] if entry else [f for f in FAMILIES if names & set(f.pipeline_classes)]
    if not known:
        return derived
    family = known[0]
    return replace(
        family,
        size_multiple=math.lcm(family.size_multiple, derived.size_multiple),
        frame_step=math.lcm(family.frame_step, derived.frame_step),
    )


def generic_family(pipeline: Any) -> ModelFamily:
    """A best guess for an unknown pipeline, from its VAE scale factors and patch size."""
    spatial = _int_attribute(pipeline, "vae_scale_factor_spatial", "vae_spatial_compression_ratio")
    temporal = _int_attribute(
        pipeline, "vae_scale_factor_temporal", "vae_temporal_compression_ratio"
    )
    config = getattr(getattr(pipeline, "transformer", None), "config", None)
    patch = getattr(config, "patch_size", None) or 1
    patch = patch[-1] if isinstance(patch, (tuple, list)) else patch
    name = type(pipeline).__name__
    return ModelFamily(
        name=name,
        pipeline_classes=(name,),
        fps=16,
        frame_step=temporal or 4,
        size_multiple=(spatial or _int_attribute(pipeline, "vae_scale_factor") or 8) * patch,
        short_side=480,
        steps=50,
        description=f"{name} through diffusers (generic settings).",
    )


def _int_attribute(obj: Any, *names: str) -> int | None:
    values = (getattr(obj, name, None) for name in names)
    return next((v for v in values if isinstance(v, int) and v > 0), None)


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


class DiffusersBackend(Backend):
    """Any diffusers text-to-video pipeline, loaded once and kept warm on one device."""

    name = "diffusers"

    def __init__(
        self,
        pipeline: Any,
        settings: Settings,
        device: torch.device,
        entry: CatalogEntry | None = None,
    ) -> None:
        self._pipeline: Any = pipeline
        self.settings = settings
        self.device = device
        self.entry = entry
        self.family = detect_family(pipeline, entry)
        self.capabilities = Capabilities(fps=self.family.fps, description=self.family.description)
        pipeline.set_progress_bar_config(disable=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> DiffusersBackend:
        """Load settings.model (catalogue name, folder or hub id) in settings.dtype, then
        place it on settings.device with the speed options applied."""
        options = SpeedOptions.from_settings(settings)  # a bad option fails before loading
        weights = resolve_weights(settings.model)
        device = resolve_device(settings.device)
        pipeline = load_pipeline(weights, resolve_dtype(settings.dtype, device))
        apply_options(pipeline, options, device)
        return cls(pipeline, settings, device, weights.entry)

    @property
    def pipeline(self) -> Any:
        """The loaded diffusers pipeline; ModelUnavailable after close()."""
        if self._pipeline is None:
            raise ModelUnavailable("the diffusers backend was closed")
        return self._pipeline

    def plan(self, request: GenerationRequest) -> GenerationPlan:
        """Native size with the request's aspect ratio, a valid frame count, the step count."""
        family, settings = self.family, self.settings
        short_side = settings.native_short_side or family.short_side
        width, height = native_size(*request.size, short_side, family.size_multiple)
        frames = native_frame_count(request.duration, family, settings.native_max_frames)
        steps = settings.num_inference_steps or family.steps
        return GenerationPlan(width, height, frames, family.fps, steps)

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        """Run the pipeline; progress(step, total) after each step; frames come out lazily."""
        plan = self.plan(request)
        arguments = self.call_arguments(request, plan, progress)
        reset_step_caches(self.pipeline)
        try:
            with torch.inference_mode():
                video = self.pipeline(**arguments).frames[0]
        except ClipForgeError:
            raise  # JobCancelled from progress(): nothing is decoded after a cancel
        except torch.cuda.OutOfMemoryError as exc:
            raise WorkerFailure(f"out of device memory on {self.device}: {exc}") from exc
        except Exception as exc:
            raise GenerationFailed(f"the pipeline failed: {type(exc).__name__}: {exc}") from exc
        return _clip(video, plan.fps)

    def call_arguments(
        self, request: GenerationRequest, plan: GenerationPlan, progress: ProgressCallback
    ) -> dict[str, Any]:
        """The keyword arguments the pipeline is called with for this request."""
        family = self.family
        arguments: dict[str, Any] = {
            "prompt": augment_prompt(request.prompt, request.camera_fixed),
            "width": plan.width,
            "height": plan.height,
            "num_frames": plan.num_frames,
            "num_inference_steps": plan.steps,
            "generator": torch.Generator(self.device).manual_seed(request.seed),
            "output_type": "np",
            "callback_on_step_end": _step_callback(progress, plan.steps),
        }
        if family.negative_prompt is not None:
            arguments["negative_prompt"] = family.negative_prompt
        guidance = self.settings.guidance_scale
        if guidance is None:
            guidance = family.guidance_scale
        if guidance is not None:
            arguments["guidance_scale"] = guidance
        second = family.guidance_scale_2 if self.settings.guidance_scale is None else guidance
        if second is not None:
            arguments["guidance_scale_2"] = second
        if family.fps_argument is not None:
            arguments[family.fps_argument] = family.fps
        return arguments | dict(family.extra_arguments)

    def close(self) -> None:
        """Drop the pipeline and give its device memory back."""
        self._pipeline = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _step_callback(progress: ProgressCallback, steps: int) -> Any:
    """A callback_on_step_end that reports progress; whatever progress raises propagates."""

    def on_step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        progress(step + 1, getattr(pipe, "num_timesteps", None) or steps)
        return {}

    return on_step_end


def _clip(video: Any, fps: float) -> Clip:
    """A Clip over the pipeline's frames (float in [0, 1] or PIL), converted one at a time."""
    frames = video if isinstance(video, np.ndarray) else list(video)
    height, width = np.asarray(frames[0]).shape[:2]
    return Clip(width, height, fps, len(frames), _uint8_frames(frames))


def _uint8_frames(frames: Any) -> Iterator[np.ndarray]:
    for frame in frames:
        array = np.asarray(frame.convert("RGB") if hasattr(frame, "convert") else frame)
        if array.dtype != np.uint8:
            array = np.nan_to_num(array.astype(np.float32), nan=0.0)
            array = (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)
        yield np.ascontiguousarray(array[..., :3])
