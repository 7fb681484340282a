"""The backend contract: a validated request in, frames at the backend's native size out.

Backends never touch the store, the API or the video encoder. The worker calls
`Backend.generate(request, progress, images)`; the backend calls `progress(step, total)`
between denoising steps, and `progress` raises `JobCancelled` when the job was cancelled,
which the backend lets propagate (no decode after a cancel). `images` carries the first and
last frames of an image-to-video job, already fitted to the request's output size.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from clipforge.errors import GenerationFailed
from clipforge.schemas import MAX_SECONDS, GenerationRequest

ProgressCallback = Callable[[int, int], None]
"""progress(step, total): called after each denoising step; may raise JobCancelled."""


def out_of_device_memory(exc: BaseException) -> bool:
    """A device out of memory (`torch.OutOfMemoryError`, alias `torch.cuda.OutOfMemoryError`),
    told apart without importing torch: the device's state, never the job's fault."""
    return any(
        cls.__name__ == "OutOfMemoryError" and cls.__module__.split(".")[0] == "torch"
        for cls in type(exc).__mro__
    )


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do with given weights, declared as data (no model is loaded to
    know it): the model routing reads it, so the API refuses what a backend cannot do before
    a job exists (`clipforge/routing/`), and `GET /v1/models` shows it."""

    fps: float = 24.0
    """Native frame rate of the generated frames."""
    max_duration: int = 10
    """Longest clip in seconds; a longer request is a 400 naming `duration`."""
    first_frame: bool = False
    """Takes a first-frame image (image-to-video)."""
    last_frame: bool = False
    """Takes a last-frame image as well."""
    text_to_video: bool = True
    """Renders from text alone (false for image-to-video-only weights: they serve only the
    image-to-video ids)."""
    needs_last_frame: bool = False
    """Renders only from a first and a last frame (Wan 2.1 FLF2V)."""
    camerafixed_conditioning: bool = False
    """True when camera_fixed is a real conditioning, not only a prompt suffix."""
    negative_prompt: bool = False
    sampling_steps: bool = False
    guidance: bool = False
    """Takes a request's `negative_prompt`, `num_inference_steps`, `guidance_scale`."""
    audio: bool = False
    """Makes a sound track (`Clip.audio`) when the request asks for one (`generate_audio`)."""
    reference_images: bool = False
    """Takes reference images (`ImageInput.references`) beside the prompt."""
    description: str = ""
    notes: tuple[str, ...] = ()
    """What an operator should know about these weights, one line each (a part of the
    published recipe that is off: `two-stage: off, no latent_upsampler/ in the folder`)."""

    @property
    def longest(self) -> int:
        """Seconds it renders: in one pass (`max_duration`), or, where it takes a first frame,
        up to `schemas.MAX_SECONDS` in segments (`backends/segments.py`)."""
        return MAX_SECONDS if self.first_frame else self.max_duration


@dataclass(frozen=True)
class GenerationPlan:
    """Native size and length a backend will render for one request."""

    width: int
    height: int
    num_frames: int
    fps: float
    steps: int
    """Every denoising step of the job (what progress counts): a two-stage model's refine
    steps included."""
    refine_steps: int = 0
    """Of `steps`, those of a second, refining stage (not the request's step count)."""

    @property
    def first_stage_steps(self) -> int:
        """The steps the request's step count sets (all of them but a refining stage's)."""
        return self.steps - self.refine_steps


@dataclass(frozen=True)
class ImageInput:
    """The first and last frames of an image-to-video job: RGB uint8 arrays (height, width, 3)
    at the request's output size (`request.size`), already fitted by the one rule every
    backend shares (centre crop to the aspect ratio, then resize: `video/images.py`). A
    backend resizes them to its native size (same aspect ratio) if it renders smaller."""

    first: np.ndarray | None = None
    last: np.ndarray | None = None
    references: tuple[np.ndarray, ...] = ()
    """Reference images (as sent, RGB uint8, not fitted: a reference is not a frame)."""
    since: float = 0.0
    """Seconds of the whole clip before this pass: 0, or where a later segment of a long clip
    starts (`backends/segments.py`). A backend whose sound follows time (the test pattern's
    tone) continues from there, so that the segments' sound joins as one."""

    def __bool__(self) -> bool:
        return self.first is not None or self.last is not None or bool(self.references)

    def refuse_untaken(self, name: str, capabilities: Capabilities) -> None:
        """GenerationFailed for a first or last frame that `name` (whose `capabilities` these
        are) takes none of."""
        for kind, image, taken in (
            ("first", self.first, capabilities.first_frame),
            ("last", self.last, capabilities.last_frame),
        ):
            if image is not None and not taken:
                raise GenerationFailed(f"{name} takes no {kind}-frame image")
        if self.references and not capabilities.reference_images:
            raise GenerationFailed(f"{name} takes no reference images")


NO_IMAGES = ImageInput()


@dataclass(frozen=True)
class Reading:
    """What a backend makes of a request, for the client to see: the prompt it actually uses
    (with any suffix it adds, and its negative prompt), and for a model that reads attributes
    off the prompt (the built-in one) what it read and the words it did not use."""

    prompt: str
    negative_prompt: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    unused_words: tuple[str, ...] = ()
    memory: dict[str, object] | None = None
    """The job's memory plan (diffusers: `decode` plain, tiled, offload or refuse, and why)."""

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = {"prompt": self.prompt}
        if self.negative_prompt is not None:
            values["negative_prompt"] = self.negative_prompt
        if self.memory is not None:
            values["memory"] = dict(self.memory)
        if self.attributes:
            values["attributes"] = dict(self.attributes)
            values["unused_words"] = list(self.unused_words)
        return values


@dataclass
class Clip:
    """Frames at native size: uint8 arrays of shape (height, width, 3), streamed in order."""

    width: int
    height: int
    fps: float
    num_frames: int
    frames: Iterator[np.ndarray]
    audio: np.ndarray | None = None
    """The sound track, where the backend makes one: float32 samples in -1..1, mono, shape
    (samples,), starting with the first frame; the video layer fits it to the clip's length.
    It may run on through the last frame's own display (1/fps): the segments of a long clip
    cross-fade over that overlap (`backends/segments.py`)."""
    sample_rate: int = 48_000


class Backend(ABC):
    """A text-to-video model behind one interface. One instance stays warm per worker."""

    name: str = ""
    capabilities: Capabilities

    @abstractmethod
    def plan(self, request: GenerationRequest) -> GenerationPlan:
        """Native size, frame count and steps for this request; cheap, no model work."""

    @abstractmethod
    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        """Render the request (from `images` when given: the capabilities say which a backend
        takes). Raises JobFailure subclasses for job-level problems."""

    def interpret(self, request: GenerationRequest) -> Reading:
        """What this backend makes of the request (cheap: no denoising). The default: the
        prompt as it is."""
        return Reading(request.prompt, request.negative_prompt)

    def adapter_status(self) -> dict[str, str | None]:
        """Each LoRA adapter declared for the loaded model -> None when it loaded, else why
        not (what the worker reports for `/readyz` and `/v1/models`). The default: none."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free the device memory held by the model."""
