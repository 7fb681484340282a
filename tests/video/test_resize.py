"""Cover-and-crop resizing to every output size of API.md section 2."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from clipforge.schemas import FRAME_SIZES, AspectRatio
from clipforge.video import cover_crop_box, resize_frame

ALL_SIZES = sorted({size for by_ratio in FRAME_SIZES.values() for size in by_ratio.values()})


def test_every_size_encodes_and_has_its_ratio() -> None:
    """What the encoder and the clients need of the table (not its contents restated): even
    sides for H.264's 4:2:0, each size within 3% of its ratio, a portrait size for every
    landscape one, and sizes that grow with the resolution."""
    for by_ratio in FRAME_SIZES.values():
        for ratio, (width, height) in by_ratio.items():
            across, down = (int(n) for n in ratio.value.split(":"))
            assert width % 2 == 0 and height % 2 == 0, (ratio, width, height)
            assert width / height == pytest.approx(across / down, rel=0.03), (ratio, width, height)
            mirrored = AspectRatio(f"{down}:{across}")
            assert by_ratio[mirrored] == (height, width)
    areas = [[w * h for w, h in by_ratio.values()] for by_ratio in FRAME_SIZES.values()]
    assert all(min(big) > max(small) for small, big in itertools.pairwise(areas))


def _native(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(width * height)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("native", [(64, 48), (48, 64)], ids=["landscape", "portrait"])
@pytest.mark.parametrize("size", ALL_SIZES, ids=[f"{w}x{h}" for w, h in ALL_SIZES])
def test_every_api_size_comes_out_exact(size: tuple[int, int], native: tuple[int, int]) -> None:
    width, height = size
    out = resize_frame(_native(*native), width, height)
    assert out.shape == (height, width, 3)
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous and out.flags.writeable


@pytest.mark.parametrize(
    ("src", "dst", "box"),
    [
        ((832, 480), (1920, 1088), (0, 4, 832, 475)),  # slightly wider target: trim rows
        ((64, 48), (640, 640), (8, 0, 56, 48)),  # square from landscape: trim columns
        ((48, 64), (960, 416), (0, 21, 48, 42)),  # 21:9 from portrait: a band of rows
        ((64, 48), (416, 960), (21, 0, 42, 48)),  # 9:21 from landscape: a band of columns
        ((832, 480), (864, 480), (0, 9, 832, 471)),  # a typical backend size to 480p 16:9
        ((1280, 720), (1920, 1080), (0, 0, 1280, 720)),  # same ratio: everything
    ],
)
def test_cover_crop_box(
    src: tuple[int, int], dst: tuple[int, int], box: tuple[int, int, int, int]
) -> None:
    assert cover_crop_box(*src, *dst) == box


@pytest.mark.parametrize("native", [(64, 48), (48, 64), (832, 480), (81, 17)])
@pytest.mark.parametrize("size", ALL_SIZES)
def test_cover_crop_box_keeps_ratio_and_centre(
    native: tuple[int, int], size: tuple[int, int]
) -> None:
    src_w, src_h = native
    left, top, right, bottom = cover_crop_box(src_w, src_h, *size)
    assert 0 <= left < right <= src_w and 0 <= top < bottom <= src_h
    assert right - left == src_w or bottom - top == src_h  # as large as fits
    # Within one source pixel of the target's aspect ratio.
    crop_w, crop_h = right - left, bottom - top
    assert (
        abs(crop_w - crop_h * size[0] / size[1]) <= 1
        or abs(crop_h - crop_w * size[1] / size[0]) <= 1
    )
    assert abs(left - (src_w - right)) <= 1 and abs(top - (src_h - bottom)) <= 1


def test_cover_crop_box_rejects_empty_sizes() -> None:
    with pytest.raises(ValueError):
        cover_crop_box(0, 10, 10, 10)


def _bright_bbox(frame: np.ndarray) -> tuple[float, float, int, int]:
    """Centre (x, y) and size (w, h) of the pixels brighter than mid-grey."""
    ys, xs = np.nonzero(frame[..., 0] > 128)
    return (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2, np.ptp(xs) + 1, np.ptp(ys) + 1


@pytest.mark.parametrize("native", [(64, 48), (48, 64)])
@pytest.mark.parametrize("size", [(864, 480), (416, 960), (960, 416), (1440, 1440)])
def test_centred_square_stays_centred_and_square(
    native: tuple[int, int], size: tuple[int, int]
) -> None:
    src_w, src_h = native
    frame = np.zeros((src_h, src_w, 3), np.uint8)
    frame[src_h // 2 - 8 : src_h // 2 + 8, src_w // 2 - 8 : src_w // 2 + 8] = 255
    width, height = size
    cx, cy, w, h = _bright_bbox(resize_frame(frame, width, height))
    # The crop box has whole source pixels, so the centre is good to half a source pixel.
    tolerance = 0.5 * max(width / src_w, height / src_h) + 1
    assert abs(cx - (width - 1) / 2) <= tolerance
    assert abs(cy - (height - 1) / 2) <= tolerance
    assert w == pytest.approx(h, rel=0.06)  # not stretched


def test_no_bars_when_the_ratio_differs() -> None:
    # A letterbox or pillarbox would bring in pixels that are not in the source.
    frame = np.full((48, 64, 3), 200, np.uint8)
    for width, height in [(416, 960), (960, 416), (640, 640)]:
        out = resize_frame(frame, width, height)
        assert out.min() >= 198 and out.max() <= 202


def test_crop_drops_the_sides_for_a_portrait_target() -> None:
    frame = np.full((48, 64, 3), 100, np.uint8)
    frame[:, :10] = 255  # a stripe on the left edge, outside the central 9:21 band
    out = resize_frame(frame, 416, 960)
    assert out.max() <= 102


def test_same_size_returns_a_writable_copy() -> None:
    frame = _native(64, 48)
    frame.flags.writeable = False
    out = resize_frame(frame, 64, 48)
    assert np.array_equal(out, frame)
    assert out.flags.writeable and not np.shares_memory(out, frame)


def test_upscale_is_smooth_not_blocky() -> None:
    # Bicubic: a two-level edge gains intermediate levels (nearest neighbour would not).
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, 32:] = 255
    row = resize_frame(frame, 640, 480)[240, :, 0]
    assert len(np.unique(row)) > 4


@pytest.mark.parametrize(
    "bad",
    [np.zeros((48, 64), np.uint8), np.zeros((48, 64, 4), np.uint8), np.zeros((48, 64, 3))],
)
def test_rejects_non_rgb_uint8(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        resize_frame(bad, 640, 480)
