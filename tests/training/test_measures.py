"""The evaluation's measures, on frames whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from training.eval import matches_frame
from training.measures import background_colours, motion_of, object_blob, psnr, wilson
from training.scenes import Scene, render_scene

from clipforge.backends.builtin.v2.colours import colour_table

RED = (220, 30, 30)


def test_wilson_bounds_match_the_textbook_values() -> None:
    low, high = wilson(61, 64)  # by hand: centre 0.9275, half-width 0.0565
    assert (round(low, 3), round(high, 3)) == (0.871, 0.984)
    assert wilson(0, 64)[0] == 0.0 and wilson(64, 64)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    "motion", ["left", "right", "up", "down", "growing", "shrinking", "bouncing", "still"]
)
def test_the_blob_track_names_each_motion_of_a_rendered_scene(motion: str) -> None:
    scene = Scene("red", "circle", motion, "stripes", "navy", "fixed")
    frames = render_scene(scene, 96, 54, 25)
    verdicts = [object_blob(frame, RED) for frame in frames]
    assert all(clean for clean, _ in verdicts)
    assert motion_of([found for _, found in verdicts], 96, 54) == motion


def test_a_trail_or_a_second_object_is_not_clean() -> None:
    frame = np.zeros((54, 96, 3), np.uint8)
    frame[10:20, 10:20] = RED
    assert object_blob(frame, RED)[0]
    frame[30:40, 60:70] = RED  # a second object
    assert not object_blob(frame, RED)[0]
    frame[30:40, 60:70] = 0
    frame[14:16, 20:80] = RED  # a smear along the path
    assert not object_blob(frame, RED)[0]


def test_background_colours_and_psnr() -> None:
    frame = render_scene(Scene("red", "circle", "still", "checker", "grey", "fixed"), 96, 54, 1)[0]
    colours = background_colours(frame, RED)
    assert len(colours) == 2 and all(share >= 0.25 for _, share in colours)
    assert psnr(frame, frame) == 100.0 and psnr(frame, frame // 2) < 20


def test_a_reading_matches_the_frame_it_describes_and_no_other() -> None:
    table = colour_table().names
    hexed = {name: "#" + "".join(f"{c:02x}" for c in table[name]) for name in ("red", "navy")}
    scene = Scene(hexed["red"], "circle", "still", "checker", hexed["navy"], "fixed")
    frame = render_scene(scene, 96, 54, 1)[0]
    read = {"colour": "red", "tone": "navy", "background": "checker"}
    assert matches_frame(read, frame)
    for wrong in ({"colour": "white"}, {"tone": "white"}, {"background": "plain"}):
        assert not matches_frame({**read, **wrong}, frame)
