"""The built-in backend: plans, frames at 24 fps, first and last frames, cancelling, and a
reading that says what was used, what was not and what was replaced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from training.scenes import Scene, render_scene

from clipforge.backends.base import ImageInput
from clipforge.backends.builtin.backend import BuiltinBackend
from clipforge.backends.builtin.capabilities import CAPABILITIES
from clipforge.backends.geometry import native_size
from clipforge.errors import JobCancelled, ModelUnavailable
from clipforge.schemas import AspectRatio, GenerationRequest, Resolution
from clipforge.settings import Settings
from clipforge.video.resize import resize_frame


def request(**fields: object) -> GenerationRequest:
    values: dict[str, object] = {
        "model": "bytedance/seedance-1-0-pro-t2v",
        "prompt": "a red circle moving to the left",
        "seed": 5,
        "resolution": "480p",
        "frame_count": 25,
    }
    return GenerationRequest.model_validate({**values, **fields})


def frames(backend: BuiltinBackend, req: GenerationRequest, images: ImageInput) -> np.ndarray:
    return np.stack(list(backend.generate(req, lambda step, total: None, images).frames))


def test_it_declares_24_fps_and_both_frames_and_no_sampling_options() -> None:
    assert CAPABILITIES.fps == 24 and CAPABILITIES.first_frame and CAPABILITIES.last_frame
    assert not CAPABILITIES.sampling_steps and not CAPABILITIES.guidance


@pytest.mark.parametrize("resolution", list(Resolution))
@pytest.mark.parametrize("ratio", [AspectRatio.WIDE, AspectRatio.PORTRAIT, AspectRatio.SQUARE])
def test_every_output_frame_is_planned_natively(
    shipped: BuiltinBackend, resolution: Resolution, ratio: AspectRatio
) -> None:
    req = request(resolution=resolution.value, aspect_ratio=ratio.value, frame_count=None)
    plan = shipped.plan(req)
    assert (plan.width, plan.height) == native_size(*req.size, 192, 2)
    assert (plan.num_frames, plan.fps) == (req.frames, 24)


def test_the_seed_decides_the_frames(shipped: BuiltinBackend) -> None:
    clip = frames(shipped, request(), ImageInput())
    plan = shipped.plan(request())
    assert clip.shape == (25, plan.height, plan.width, 3)
    assert np.array_equal(clip, frames(shipped, request(), ImageInput()))
    assert not np.array_equal(clip, frames(shipped, request(seed=6), ImageInput()))


def test_the_clip_starts_and_ends_on_the_fitted_images(shipped: BuiltinBackend) -> None:
    req = request(prompt="a yellow cross moving up")
    width, height = req.size
    scene = Scene("yellow", "cross", "up", "checker", "grey", "fixed", start=(0.5, 0.7))
    first, last = render_scene(scene, width, height, 2)
    plan = shipped.plan(req)
    clip = frames(shipped, req, ImageInput(first, last))
    assert np.array_equal(clip[0], resize_frame(first, plan.width, plan.height))
    assert np.array_equal(clip[-1], resize_frame(last, plan.width, plan.height))
    started = frames(shipped, req, ImageInput(first))
    assert np.array_equal(started[0], clip[0]) and not np.array_equal(started[-1], clip[-1])


def test_progress_is_reported_per_chunk_and_a_cancel_stops_it(shipped: BuiltinBackend) -> None:
    seen: list[tuple[int, int]] = []

    def cancel_after_one(step: int, total: int) -> None:
        seen.append((step, total))
        raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        shipped.generate(request(), cancel_after_one)
    assert seen == [(1, shipped.plan(request()).steps)]


@pytest.mark.parametrize(
    ("prompt", "noun"),
    [("a dragon flying to the left", "dragon"), ("a busy street at night", "street")],
)
def test_an_object_it_cannot_draw_renders_the_fallback_and_says_so(
    shipped: BuiltinBackend, prompt: str, noun: str
) -> None:
    reading = shipped.interpret(request(prompt=prompt))
    assert reading.attributes["shape"] == "circle"
    assert reading.attributes[f"replaced {noun}"] == "circle" and noun in reading.unused_words
    assert len(frames(shipped, request(prompt=prompt, frame_count=5), ImageInput())) == 5


def test_the_reading_says_what_was_not_said_and_what_the_flag_changed(
    shipped: BuiltinBackend,
) -> None:
    reading = shipped.interpret(request(prompt="a green circle falling down, wonderful"))
    attributes = reading.attributes
    assert (attributes["colour"], attributes["motion"]) == ("green", "down")
    assert attributes["tone"] == "black (not said)" and attributes["camera"] == "fixed (not said)"
    assert reading.unused_words == ("wonderful",)
    flagged = shipped.interpret(
        request(prompt="a red square, the camera pans left", camera_fixed=True)
    )
    assert flagged.attributes["camera"] == "fixed (camera_fixed)"


def test_missing_weights_say_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="v2_train"):
        BuiltinBackend.from_settings(Settings(backend="builtin", model=str(tmp_path)))


def test_the_native_short_side_setting_is_honoured() -> None:
    sharper = BuiltinBackend.from_settings(Settings(backend="builtin", native_short_side=288))
    plan = sharper.plan(request())
    assert min(plan.width, plan.height) == 288
    assert len(frames(sharper, request(frame_count=3), ImageInput())[0]) == 288
