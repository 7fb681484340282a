"""The "AI generated" mark: bottom-right, visible on any background, nothing else touched."""

from __future__ import annotations

import numpy as np
import pytest

from clipforge.video import Watermark

# The smallest width, the largest width and height, a square and the common 480p size.
SIZES = [(416, 960), (2176, 928), (928, 2176), (1440, 1440), (864, 480), (960, 416)]


def _background(width: int, height: int, level: int) -> np.ndarray:
    rng = np.random.default_rng(level)
    noise = rng.integers(-6, 7, (height, width, 3))
    return np.clip(level + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_only_the_corner_changes(size: tuple[int, int]) -> None:
    width, height = size
    mark = Watermark(width, height)
    before = _background(width, height, 128)
    after = mark.apply(before.copy())
    changed = np.any(after != before, axis=2)
    ys, xs = np.nonzero(changed)
    assert len(xs) > 0.1 * (mark.box[2] - mark.box[0]) * (mark.box[3] - mark.box[1])
    left, top, right, bottom = mark.box
    assert left <= xs.min() and xs.max() < right and top <= ys.min() and ys.max() < bottom
    # Bottom-right corner, inside a margin.
    assert left > width / 2 and top > height * 0.85
    assert right < width and bottom < height


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("level", [0, 128, 255])
def test_readable_on_dark_mid_and_light(size: tuple[int, int], level: int) -> None:
    width, height = size
    mark = Watermark(width, height)
    frame = mark.apply(np.full((height, width, 3), level, np.uint8))
    left, top, right, bottom = mark.box
    corner = frame[top:bottom, left:right].astype(int)
    # Light text and a dark outline: both extremes show whatever the background.
    assert corner.max() >= 200
    assert corner.min() <= 60
    assert np.count_nonzero(np.abs(corner - level).max(axis=2) > 60) > 50


def test_scales_with_the_frame() -> None:
    small, large = Watermark(864, 480), Watermark(1920, 1088)
    small_h = small.box[3] - small.box[1]
    large_h = large.box[3] - large.box[1]
    assert large_h == pytest.approx(small_h * 1088 / 480, rel=0.2)
    assert 0.02 * 480 <= small_h <= 0.08 * 480


def test_in_place_and_returns_the_frame() -> None:
    mark = Watermark(864, 480)
    frame = np.zeros((480, 864, 3), np.uint8)
    assert mark.apply(frame) is frame
    assert frame.any()


def test_is_deterministic() -> None:
    first = Watermark(864, 480).apply(np.zeros((480, 864, 3), np.uint8))
    second = Watermark(864, 480).apply(np.zeros((480, 864, 3), np.uint8))
    assert np.array_equal(first, second)


def test_tiny_frame_clips_the_mark() -> None:
    mark = Watermark(64, 48)
    frame = mark.apply(np.zeros((48, 64, 3), np.uint8))
    assert frame.any()
    left, top, right, bottom = mark.box
    assert 0 <= left < right <= 64 and 0 <= top < bottom <= 48


@pytest.mark.parametrize(
    "bad", [np.zeros((480, 864, 3), np.uint8).T, np.zeros((480, 864, 3), np.float32)]
)
def test_rejects_wrong_frames(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        Watermark(864, 480).apply(bad)
