"""First and last frames: the image split into plate and object, and a clip that starts and
ends on the given frames exactly, with the object moving as the prompt says."""

from __future__ import annotations

import numpy as np
import torch
from training.scenes import Scene, render_scene

from clipforge.backends.builtin.v2.frames import Still
from clipforge.backends.builtin.v2.parser import Parsed
from clipforge.backends.builtin.v2.pipeline import V2Model, load_generator

WIDTH, HEIGHT = 96, 54
RED = (220, 30, 30)


def _scene(**fields: object) -> Scene:
    values: dict[str, object] = {
        "colour": "red",
        "shape": "square",
        "motion": "right",
        "background": "stripes",
        "tone": "navy",
        "camera": "fixed",
        "start": (0.3, 0.5),
    }
    return Scene(**{**values, **fields})  # type: ignore[arg-type]


def _red_centre(frame: np.ndarray) -> np.ndarray:
    near = np.abs(frame.astype(int) - RED).sum(axis=-1) < 60
    ys, xs = np.nonzero(near)
    return np.array([xs.mean(), ys.mean()])


def _model() -> V2Model:
    return V2Model(parser=None, generator=load_generator())  # type: ignore[arg-type]


def _parsed(motion: str) -> Parsed:
    return Parsed("square", motion, "stripes", "fixed", ("red", RED), ("navy", (20, 25, 70)))


def test_the_object_is_told_apart_from_a_patterned_background() -> None:
    frame = render_scene(_scene(), WIDTH, HEIGHT, 1)[0]
    still = Still.of(frame)
    assert np.allclose(still.centre, _red_centre(frame), atol=1.0)
    plate = (still.plate.permute(1, 2, 0).numpy() * 255).round()
    assert (np.abs(plate - RED).sum(axis=-1) >= 60).all()  # nothing of the object is left
    assert torch.equal(still.plate[:, still.mask[0] == 0], still.image[:, still.mask[0] == 0])


def test_a_clip_starts_on_its_first_frame_and_the_object_moves_as_asked() -> None:
    first = render_scene(_scene(), WIDTH, HEIGHT, 1)[0]
    frames = _model().render(_parsed("right"), True, 1, WIDTH, HEIGHT, 25, (Still.of(first), None))
    assert np.array_equal(frames[0], first)
    moved = _red_centre(frames[-1]) - _red_centre(frames[0])
    assert moved[0] > 0.2 * WIDTH and abs(moved[1]) < 0.05 * HEIGHT


def test_a_clip_ends_on_its_last_frame_and_joins_both_when_given() -> None:
    first = render_scene(_scene(start=(0.25, 0.3)), WIDTH, HEIGHT, 1)[0]
    last = render_scene(_scene(start=(0.7, 0.6)), WIDTH, HEIGHT, 1)[0]
    model = _model()
    ending = model.render(_parsed("right"), True, 1, WIDTH, HEIGHT, 25, (None, Still.of(last)))
    assert np.array_equal(ending[-1], last)
    both = model.render(
        _parsed("right"), True, 1, WIDTH, HEIGHT, 25, (Still.of(first), Still.of(last))
    )
    assert np.array_equal(both[0], first) and np.array_equal(both[-1], last)
    middle = _red_centre(both[12])
    assert _red_centre(first)[0] < middle[0] < _red_centre(last)[0]


def test_an_image_where_nothing_stands_out_is_all_plate() -> None:
    ramp = np.linspace(0, 255, WIDTH * HEIGHT * 3).reshape(HEIGHT, WIDTH, 3).astype(np.uint8)
    still = Still.of(ramp)
    assert float(still.mask.sum()) == 0
    frames = _model().render(_parsed("left"), True, 1, WIDTH, HEIGHT, 9, (still, None))
    assert all(np.array_equal(frame, ramp) for frame in frames)  # still camera: a still clip
