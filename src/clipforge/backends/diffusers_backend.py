"""`diffusers`: open-weight text-to-video models (Wan 2.1/2.2, LTX-Video, ...) through diffusers.

The pipeline is loaded once with `DiffusionPipeline.from_pretrained` from the folder or hub id in
`settings.model` and stays warm. What differs between model families (frame rate, frame-count
rule, size multiple, native size, sampling defaults) is data in `FAMILIES`; a pipeline of any
other class gets a generic family derived from its VAE scale factors.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import torch
from diffusers import DiffusionPipeline
from huggingface_hub import constants as hub_constants
from packaging.version import Version

from clipforge.backends.base import Backend, Capabilities, Clip, GenerationPlan, ProgressCallback
from clipforge.errors import ClipForgeError, GenerationFailed, ModelUnavailable, WorkerFailure
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings

CAMERA_FIXED_SUFFIX = "The camera stays fixed: a static shot, no pan, no zoom, no camera movement."
"""Appended to the prompt when camera_fixed is set, as the hosted service does."""

WAN_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, "
    "images, static, overall gray, worst quality, low quality, JPEG compression residue, ugly, "
    "incomplete, extra fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, "
    "misshapen limbs, fused fingers, still picture, messy background, three legs, many people "
    "in the background, walking backwards"
)
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"

HOW_TO_CONFIGURE = (
    "Set CLIPFORGE_MODEL (or run `clipforge serve --model PATH`) to a diffusers text-to-video "
    "pipeline folder, or to a hub id on a machine that can reach the Hugging Face hub."
)

# diffusers 0.42 renamed from_pretrained's `torch_dtype` to `dtype` (the old name warns).
_DTYPE_KEYWORD = "dtype" if Version(diffusers.__version__) >= Version("0.42") else "torch_dtype"
_DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32"}


@dataclass(frozen=True)
class ModelFamily:
    """The facts about one family of pipelines that planning and sampling need."""

    name: str
    pipeline_classes: tuple[str, ...]
    """Pipeline class names (or base class names) that belong to the family."""
    fps: float
    frame_step: int
    """Valid frame counts are frame_step * k + 1 (the VAE's temporal compression)."""
    size_multiple: int
    """Width and height must be multiples of this (VAE spatial compression x patch size)."""
    short_side: int
    steps: int
    guidance_scale: float | None = None
    """None: the pipeline's own default."""
    negative_prompt: str | None = None
    fps_argument: str | None = None
    """Name of the pipeline argument that takes the frame rate, if it has one."""
    description: str = ""


WAN = ModelFamily(
    name="wan",
    pipeline_classes=("WanPipeline",),
    fps=16,
    frame_step=4,
    size_multiple=16,
    short_side=480,
    steps=50,
    guidance_scale=5.0,
    negative_prompt=WAN_NEGATIVE_PROMPT,
    description="Wan 2.1/2.2 text-to-video through diffusers.",
)
LTX = ModelFamily(
    name="ltx",
    pipeline_classes=("LTXPipeline",),
    fps=24,
    frame_step=8,
    size_multiple=32,
    short_side=512,
    steps=50,
    guidance_scale=3.0,
    negative_prompt=LTX_NEGATIVE_PROMPT,
    fps_argument="frame_rate",
    description="LTX-Video text-to-video through diffusers.",
)
FAMILIES: tuple[ModelFamily, ...] = (WAN, LTX)


def detect_family(pipeline: Any) -> ModelFamily:
    """The family whose pipeline class is the pipeline's class or one of its bases, with the
    size and frame rules made coarser where the loaded VAE needs it (Wan 2.2 TI2V: 16x VAE)."""
    derived = generic_family(pipeline)
    names = {cls.__name__ for cls in type(pipeline).__mro__}
    for family in FAMILIES:
        if names.intersection(family.pipeline_classes):
            return replace(
                family,
                size_multiple=math.lcm(family.size_multiple, derived.size_multiple),
                frame_step=math.lcm(family.frame_step, derived.frame_step),
            )
    return derived


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


def native_size(width: int, height: int, short_side: int, multiple: int) -> tuple[int, int]:
    """(width, height) with the aspect ratio of width x height and the short side `short_side`,
    each side rounded to a multiple of `multiple` (at least one); never square unless asked."""
    scale = short_side / min(width, height)
    w, h = (max(multiple, round(side * scale / multiple) * multiple) for side in (width, height))
    if w == h and width != height:  # at tiny sizes rounding can square a 4:3 frame
        return (w + multiple, h) if width > height else (w, h + multiple)
    return w, h


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


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA when available, else the CPU; anything else is a torch device string."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ModelUnavailable(f"CLIPFORGE_DEVICE={name!r} is not a torch device: {exc}") from exc


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """`auto` is bfloat16 on CUDA and float32 elsewhere."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    canonical = _DTYPE_ALIASES.get(name.lower(), name.lower())
    if canonical not in ("bfloat16", "float16", "float32"):
        allowed = "auto, bfloat16, float16, float32, " + ", ".join(_DTYPE_ALIASES)
        raise ModelUnavailable(f"CLIPFORGE_DTYPE={name!r} is not one of: {allowed}")
    dtype: torch.dtype = getattr(torch, canonical)
    return dtype


def load_pipeline(model: str | None, dtype: torch.dtype, device: torch.device) -> Any:
    """Load a pipeline folder or hub id onto `device`; ModelUnavailable says what went wrong."""
    if not model:
        raise ModelUnavailable(
            f"no model is configured (CLIPFORGE_MODEL is unset). {HOW_TO_CONFIGURE}"
        )
    path = Path(model).expanduser()
    if not path.exists() and _looks_like_path(model):
        raise ModelUnavailable(
            f"no diffusers pipeline folder at {str(path)!r} (from CLIPFORGE_MODEL / --model). "
            + HOW_TO_CONFIGURE
        )
    source = str(path) if path.exists() else model
    offline = bool(hub_constants.HF_HUB_OFFLINE)
    try:
        pipeline = DiffusionPipeline.from_pretrained(
            source, local_files_only=offline, **{_DTYPE_KEYWORD: dtype}
        )
        return pipeline.to(device)
    except Exception as exc:
        where = "folder" if path.exists() else "hub id"
        offline_note = " (HF_HUB_OFFLINE is set: only the local cache was searched)"
        note = offline_note if offline and not path.exists() else ""
        reason = str(exc).strip().rstrip(".")
        raise ModelUnavailable(
            f"could not load a diffusers pipeline from {where} {source!r} (CLIPFORGE_MODEL)"
            f"{note}: {type(exc).__name__}: {reason}. {HOW_TO_CONFIGURE}"
        ) from exc


def _looks_like_path(model: str) -> bool:
    """A hub id is `name` or `owner/name`; anything else that does not exist is a bad path."""
    return model.startswith((".", "/", "~")) or "\\" in model or model.count("/") > 1


class DiffusersBackend(Backend):
    """Any diffusers text-to-video pipeline, loaded once and kept warm on one device."""

    name = "diffusers"

    def __init__(self, pipeline: Any, settings: Settings, device: torch.device) -> None:
        self._pipeline: Any = pipeline
        self.settings = settings
        self.device = device
        self.family = detect_family(pipeline)
        self.capabilities = Capabilities(fps=self.family.fps, description=self.family.description)
        pipeline.set_progress_bar_config(disable=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> DiffusersBackend:
        """Load settings.model on settings.device in settings.dtype."""
        device = resolve_device(settings.device)
        dtype = resolve_dtype(settings.dtype, device)
        return cls(load_pipeline(settings.model, dtype, device), settings, device)

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

    def generate(self, request: GenerationRequest, progress: ProgressCallback) -> Clip:
        """Run the pipeline; progress(step, total) after each step; frames come out lazily."""
        plan = self.plan(request)
        arguments = self.call_arguments(request, plan, progress)
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
        if family.guidance_scale is not None:
            arguments["guidance_scale"] = family.guidance_scale
        if family.fps_argument is not None:
            arguments[family.fps_argument] = family.fps
        return arguments

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
