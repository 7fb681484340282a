"""`builtin`: ClipForge's own small text-to-video model, for laptops, CI and first runs.

A demonstration model (issue 30; the card: training/README.md): a parser reads the prompt
into attributes and colour values (`v2/parser.py`), and a generator draws one object of that
colour, shape and motion over a plain or patterned background, every output frame natively at
24 fps (`v2/generator.py`); given a first and/or last frame, the clip starts and ends on them
(`v2/frames.py`). It renders at a short side of NATIVE_SHORT_SIDE and the video layer scales
up to the API size. camera_fixed is a real conditioning input, not a prompt suffix.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from clipforge.backends.base import (
    NO_IMAGES,
    Backend,
    Clip,
    GenerationPlan,
    ImageInput,
    ProgressCallback,
    Reading,
)
from clipforge.backends.builtin.capabilities import CAPABILITIES
from clipforge.backends.builtin.sound import SAMPLE_RATE, drawn_sound
from clipforge.backends.builtin.text import TextEncoder
from clipforge.backends.builtin.v2.frames import Still
from clipforge.backends.builtin.v2.parser import Parsed
from clipforge.backends.builtin.v2.pipeline import WEIGHTS, V2Model, chunk_count
from clipforge.backends.geometry import native_size
from clipforge.schemas import FPS, GenerationRequest
from clipforge.settings import Settings
from clipforge.video.resize import resize_frame

log = logging.getLogger(__name__)

NATIVE_SHORT_SIDE = 192
"""Measured (training/README.md, speed): 426 x 240 x 121 frames took 2.4-3.4 s to draw on this
2-core CPU under load, 342 x 192 0.8-2.4 s, inside the 5 s budget with the encoder's share."""
READINGS_KEPT = 8
"""Prompts whose reading is kept: the worker asks for the reading, then renders the same
prompt; the word accounting (a MiniLM row per content word) is not done twice."""


def describe(attributes: dict[str, str]) -> str:
    """What the model renders, as one line: "colour red, shape circle, motion right, ..."."""
    return ", ".join(f"{name} {value}" for name, value in attributes.items())


class BuiltinBackend(Backend):
    """The shipped model, loaded once and kept warm."""

    name = "builtin"
    capabilities = CAPABILITIES

    def __init__(self, model: V2Model, short_side: int = NATIVE_SHORT_SIDE) -> None:
        self.model = model
        self.short_side = short_side
        self._readings: OrderedDict[str, Parsed] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> BuiltinBackend:
        # The model draws on the CPU: a few MLP rows and per-pixel arithmetic, no denoising.
        folder = Path(settings.model) if settings.model else WEIGHTS
        model = V2Model.load(TextEncoder("cpu"), folder)
        return cls(model, settings.native_short_side or NATIVE_SHORT_SIDE)

    def plan(self, request: GenerationRequest) -> GenerationPlan:
        width, height = native_size(*request.size, self.short_side, 2)
        return GenerationPlan(width, height, request.frames, FPS, chunk_count(request.frames))

    def read(self, prompt: str) -> Parsed:
        """The prompt's reading, with its word accounting; the last few are kept."""
        if prompt in self._readings:
            self._readings.move_to_end(prompt)
            return self._readings[prompt]
        parsed = self.model.parser.parse(prompt)
        self._readings[prompt] = parsed
        while len(self._readings) > READINGS_KEPT:
            self._readings.popitem(last=False)
        return parsed

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        images.refuse_untaken(self.name, self.capabilities)
        plan = self.plan(request)
        stills = tuple(
            None if image is None else Still.of(resize_frame(image, plan.width, plan.height))
            for image in (images.first, images.last)
        )
        frames = self.model.render(
            self.read(request.prompt),
            request.camera_fixed,
            request.seed,
            plan.width,
            plan.height,
            plan.num_frames,
            stills,  # type: ignore[arg-type]
            progress,
        )
        clip = Clip(plan.width, plan.height, plan.fps, plan.num_frames, iter(frames))
        if request.generate_audio:
            # Every fourth pixel each way: the object's height is all the sound needs.
            clip.audio = drawn_sound(frames[:, ::4, ::4], request.seconds, request.seed)
            clip.sample_rate = SAMPLE_RATE
        return clip

    def interpret(self, request: GenerationRequest) -> Reading:
        """What the model understood (colour, shape, motion, ...), the words that changed
        nothing, and any object it cannot draw with the shape it draws instead: the first
        thing to look at when a clip is not what was asked for."""
        parsed = self.read(request.prompt)
        attributes = parsed.attributes()
        if request.camera_fixed:
            attributes["camera"] = "fixed (camera_fixed)"
        log.info(
            "builtin model reads the prompt as %s; unused words: %s",
            ", ".join(f"{k}={v}" for k, v in attributes.items()),
            ", ".join(parsed.unused_words) or "none",
        )
        return Reading(
            describe(attributes), attributes=attributes, unused_words=parsed.unused_words
        )

    def close(self) -> None:
        self._readings.clear()
