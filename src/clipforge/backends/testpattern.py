"""`testpattern`: an instant synthetic clip, for benchmarks of everything around the model.

It is not a model and says so: it draws a moving colour gradient derived from the seed, at a
small native size, without torch. Use it to measure the API, the queue and the encoder in
isolation, or to check a deployment before weights are in place.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from clipforge.backends.base import (
    NO_IMAGES,
    Backend,
    Capabilities,
    Clip,
    GenerationPlan,
    ImageInput,
    ProgressCallback,
)
from clipforge.backends.geometry import native_size
from clipforge.schemas import GenerationRequest

NATIVE_SHORT_SIDE = 64
NATIVE_FPS = 8
STEPS = 4
CAPABILITIES = Capabilities(
    fps=NATIVE_FPS, description="Synthetic moving gradient for benchmarks; not a model."
)


class TestPatternBackend(Backend):
    """Moving gradient, seeded; returns at once."""

    __test__ = False  # not a pytest class, whatever its name says
    name = "testpattern"
    capabilities = CAPABILITIES

    def plan(self, request: GenerationRequest) -> GenerationPlan:
        native_w, native_h = native_size(*request.size, NATIVE_SHORT_SIDE, 2)
        frames = NATIVE_FPS * request.duration + 1
        return GenerationPlan(native_w, native_h, frames, NATIVE_FPS, STEPS)

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        plan = self.plan(request)
        for step in range(1, plan.steps + 1):
            progress(step, plan.steps)
        frames = _gradient_frames(plan, request.seed)
        return Clip(plan.width, plan.height, plan.fps, plan.num_frames, frames)


def _gradient_frames(plan: GenerationPlan, seed: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=3).astype(np.float32)
    ys, xs = np.mgrid[0 : plan.height, 0 : plan.width].astype(np.float32)
    for index in range(plan.num_frames):
        phase = (xs + ys + 4.0 * index) / (plan.width + plan.height)
        wave = (np.sin(2 * np.pi * phase)[..., None] + 1.0) * 0.5
        yield np.clip(base * 0.5 + wave * 127.0, 0, 255).astype(np.uint8)
