"""The generator's guarantees, which hold for any track weights: one compact object per frame
in the asked colour exactly, any frame count natively, a fixed camera exactly still."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from clipforge.backends.builtin.v2.generator import (
    SHAPES,
    Condition,
    LayeredGenerator,
    draw,
    on_screen,
    render,
)
from clipforge.backends.builtin.v2.parser import Parsed
from clipforge.backends.builtin.v2.pipeline import V2Model

PINK = (255, 129, 192)
ROW = {
    "shape": "square",
    "motion": "right",
    "background": "stripes",
    "camera": "pan left",
    "colour": PINK,
    "tone": (1, 21, 62),
}


def _clip(row: dict, frames: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    model = LayeredGenerator()  # untrained: the guarantees may not depend on training
    cond = Condition.of([row])
    with torch.no_grad():
        track = model.tracks(cond, torch.zeros(1, 3), torch.linspace(0, 1, frames))
        clip, coverage = render(cond, track, 56, 32)
    return clip, coverage, track


@pytest.mark.parametrize("shape", SHAPES)
def test_each_frame_has_one_compact_object_within_its_radius(shape: str) -> None:
    _, coverage, track = _clip({**ROW, "shape": shape}, 6)
    cx, cy, radius = (v[0] for v in on_screen(track, 56, 32))
    ys, xs = np.mgrid[0:32, 0:56] + 0.5
    for frame in range(6):
        covered = coverage[0, frame, 0].numpy() > 0
        _, count = ndimage.label(covered)
        assert count == 1
        reach = np.hypot(xs - float(cx[frame]), ys - float(cy[frame]))[covered].max()
        assert reach <= float(radius[frame]) * 2**0.5 + 1.0  # inside the shape's box + edge


def test_the_asked_colour_is_drawn_as_it_is() -> None:
    clip, coverage, _ = _clip(ROW, 5)
    inside = coverage[0, :, 0] >= 1.0
    pixels = (clip[0].permute(0, 2, 3, 1)[inside] * 255).round()
    assert len(pixels) > 0
    assert (pixels == torch.tensor([255.0, 129.0, 192.0])).all()


def test_a_fixed_camera_is_exactly_still_and_the_flag_overrides_the_prompt() -> None:
    fixed = {**ROW, "camera": "fixed"}
    _, _, track = _clip(fixed, 7)
    assert (track[0, :, 3] == 0).all() and (track[0, :, 4] == 1).all()
    _, _, moving = _clip(ROW, 7)
    assert not (moving[0, :, 3] == 0).all()
    model = V2Model(parser=None, generator=LayeredGenerator())  # type: ignore[arg-type]
    parsed = Parsed("circle", "left", "dots", "zoom", ("pink", PINK), ("black", (0, 0, 0)))
    assert model.condition(parsed, camera_fixed=True).camera.argmax().item() == 0  # "fixed"
    assert model.condition(parsed, camera_fixed=False).camera.argmax().item() == 3  # "zoom"


def test_any_frame_count_renders_natively_and_reports_progress_per_chunk() -> None:
    model = V2Model(parser=None, generator=LayeredGenerator())  # type: ignore[arg-type]
    parsed = Parsed("circle", "left", "dots", "zoom", ("pink", PINK), ("black", (0, 0, 0)))
    seen: list[tuple[int, int]] = []
    frames = model.render(parsed, False, 3, 40, 24, 37, progress=lambda d, t: seen.append((d, t)))
    assert frames.shape == (37, 24, 40, 3) and frames.dtype == np.uint8
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize(
    ("shape", "camera"),
    [("circle", "fixed"), ("cross", "zoom"), ("triangle", "pan left"), ("square", "fixed")],
)
def test_drawing_only_the_objects_box_gives_the_rendered_frames(shape: str, camera: str) -> None:
    row = {**ROW, "shape": shape, "camera": camera, "motion": "growing"}
    torch.manual_seed(1)
    model = LayeredGenerator()
    cond = Condition.of([row])
    with torch.no_grad():
        track = model.tracks(cond, torch.rand(1, 3) * 2 - 1, torch.linspace(0, 1, 9))
        clip, _ = render(cond, track, 70, 40)
    rendered = (clip[0] * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    drawn = draw(cond, track, 70, 40)
    assert np.abs(drawn.astype(int) - rendered).max() <= 1
