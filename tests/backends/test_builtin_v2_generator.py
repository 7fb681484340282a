"""The v2 layered generator's guarantees, which hold for any weights: one compact object per
frame, the asked colour as it is, any frame count, the camera flag over the prompt."""

from __future__ import annotations

import numpy as np
import torch

from clipforge.backends.builtin.v2.generator import EXTENT, Condition, LayeredGenerator, render
from clipforge.backends.builtin.v2.parser import Parsed
from clipforge.backends.builtin.v2.pipeline import V2Model

ROW = {
    "shape": "square",
    "motion": "right",
    "background": "stripes",
    "camera": "pan left",
    "colour": (255, 129, 192),
    "tone": (1, 21, 62),
}


def _clip(model: LayeredGenerator, frames: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    cond = Condition.of([ROW])
    track = model.tracks(cond, torch.zeros(1, 3), torch.linspace(0, 1, frames))
    with torch.no_grad():
        clip, coverage = render(model, cond, track, 56, 32)
    return clip, coverage, track


def test_the_object_covers_nothing_beyond_its_own_extent_in_any_frame() -> None:
    torch.manual_seed(0)
    model = LayeredGenerator()
    # Push the shape field to cover everything: the coverage must still stop at the extent.
    torch.nn.init.constant_(model.shape_field[-1].bias, 20.0)
    _, coverage, track = _clip(model, 9)
    x, _, size, offset, zoom = track[0].detach().unbind(-1)
    cx = (0.5 + (x - 0.5) * zoom) * 56 - offset * 32
    radius = size * 32 * zoom / 2
    columns = torch.arange(56) + 0.5
    for frame in range(9):
        covered = coverage[0, frame, 0].amax(dim=0) > 0.01  # (W,)
        reach = (columns[covered] - cx[frame]).abs().max()
        assert reach <= radius[frame] * EXTENT + 1.0


def test_the_asked_colour_is_drawn_as_it_is() -> None:
    torch.manual_seed(0)
    model = LayeredGenerator()
    torch.nn.init.constant_(model.shape_field[-1].bias, 20.0)
    clip, coverage, _ = _clip(model, 5)
    inside = coverage[0, :, 0] > 0.999
    pixels = (clip[0].permute(0, 2, 3, 1)[inside] * 255).round()
    assert len(pixels) > 0
    assert (pixels == torch.tensor([255.0, 129.0, 192.0])).all()


def test_any_frame_count_renders_natively_and_the_flag_overrides_the_camera() -> None:
    torch.manual_seed(0)
    model = V2Model(parser=None, generator=LayeredGenerator())  # type: ignore[arg-type]
    parsed = Parsed(
        "circle", "left", "dots", "zoom", ("pink", (255, 129, 192)), ("black", (0, 0, 0))
    )
    frames = model.render(parsed, camera_fixed=False, seed=3, width=40, height=24, frames=121)
    assert frames.shape == (121, 24, 40, 3) and frames.dtype == np.uint8
    assert model.condition(parsed, camera_fixed=True).camera.argmax().item() == 0  # "fixed"
    assert model.condition(parsed, camera_fixed=False).camera.argmax().item() == 3  # "zoom"
