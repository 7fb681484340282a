"""`testpattern`: an instant synthetic clip, for benchmarks of everything around the model.

It is not a model and says so: it draws a moving colour gradient derived from the seed, at a
small native size, without torch. Use it to measure the API, the queue and the encoder in
isolation, or to check a deployment before weights are in place.

Given images (image-to-video), it animates them instead, at the output size, so that the whole
image path can be checked end to end without weights: a slow zoom into the first frame, which
cross-fades into the last frame when there is one. Its first frame is the fitted first image
and its last frame the fitted last image, exactly (before the lossy encoding).

Reference images show as tiles along the top edge (each a quarter of the short side), so a
test can see they arrived. With sound asked for (`generate_audio`), it makes a test tone with a
click, and a white frame, at each `CLICK_SECONDS` (`testpattern_sound.py`): a test finds both in
the MP4 and checks that they line up.
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
from clipforge.backends.testpattern_sound import (
    SAMPLE_RATE,
    tone_with_clicks,
    with_flashes,
    with_tiles,
)
from clipforge.schemas import FPS, GenerationRequest
from clipforge.video.resize import resize_frame
from clipforge.video.timeline import cross_fade

NATIVE_SHORT_SIDE = 64
NATIVE_FPS = 8
STEPS = 4
ZOOM = 0.08
"""How far the animation zooms into the first image over the clip."""
CAPABILITIES = Capabilities(
    fps=NATIVE_FPS,
    max_duration=30,
    first_frame=True,
    last_frame=True,
    sampling_steps=True,
    audio=True,
    reference_images=True,
    description="Synthetic moving gradient (or a zoom through the given frames); not a model.",
)


class TestPatternBackend(Backend):
    """Moving gradient, seeded; returns at once."""

    __test__ = False  # not a pytest class, whatever its name says
    name = "testpattern"
    capabilities = CAPABILITIES

    def plan(self, request: GenerationRequest) -> GenerationPlan:
        """The gradient at a 64 px short side; given images, the output size itself."""
        if request.image_url is not None:
            width, height = request.size
        else:
            width, height = native_size(*request.size, NATIVE_SHORT_SIDE, 2)
        frames = round(NATIVE_FPS * request.seconds) + 1
        return GenerationPlan(
            width, height, frames, NATIVE_FPS, request.num_inference_steps or STEPS
        )

    def generate(
        self, request: GenerationRequest, progress: ProgressCallback, images: ImageInput = NO_IMAGES
    ) -> Clip:
        plan = self.plan(request)
        for step in range(1, plan.steps + 1):
            progress(step, plan.steps)
        if images.first is not None:
            frames = _zoom_frames(plan, images.first, images.last)
        else:
            frames = _gradient_frames(plan, request.seed)
        if images.references:
            frames = with_tiles(frames, images.references)
        clip = Clip(plan.width, plan.height, plan.fps, plan.num_frames, frames)
        if request.generate_audio:
            # The sound runs on through the last frame's display (1/24 s): the overlap a
            # long clip's segments cross-fade over.
            clip.frames = with_flashes(clip.frames, plan.fps, images.since)
            audio = tone_with_clicks(request.seconds + 1 / FPS, images.since)
            clip.audio, clip.sample_rate = audio, SAMPLE_RATE
        return clip


def _gradient_frames(plan: GenerationPlan, seed: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=3).astype(np.float32)
    ys, xs = np.mgrid[0 : plan.height, 0 : plan.width].astype(np.float32)
    for index in range(plan.num_frames):
        phase = (xs + ys + 4.0 * index) / (plan.width + plan.height)
        wave = (np.sin(2 * np.pi * phase)[..., None] + 1.0) * 0.5
        yield np.clip(base * 0.5 + wave * 127.0, 0, 255).astype(np.uint8)


def _zoom_frames(
    plan: GenerationPlan, first: np.ndarray, last: np.ndarray | None
) -> Iterator[np.ndarray]:
    start = resize_frame(first, plan.width, plan.height)
    end = None if last is None else resize_frame(last, plan.width, plan.height)
    for index in range(plan.num_frames):
        progress = index / max(1, plan.num_frames - 1)
        frame = _zoomed(start, 1.0 + ZOOM * progress)
        if end is not None:
            frame = cross_fade(frame, end, progress)
        yield frame


def _zoomed(frame: np.ndarray, zoom: float) -> np.ndarray:
    """The centre 1/zoom of the frame, scaled back to its size (the frame itself at 1.0)."""
    height, width = frame.shape[:2]
    crop_w, crop_h = max(2, round(width / zoom)), max(2, round(height / zoom))
    if (crop_w, crop_h) == (width, height):
        return frame
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    return resize_frame(frame[top : top + crop_h, left : left + crop_w], width, height)
