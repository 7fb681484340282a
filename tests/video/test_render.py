"""render_video end to end: real API sizes, timing, watermark, atomic output, streaming memory."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from clipforge.schemas import AspectRatio, Resolution, frame_count, frame_size
from clipforge.video import Watermark, render_video
from tests.video.test_encode import TAGS, probe, top_level_boxes

GREY = 128


def moving_square(count: int, width: int, height: int) -> Iterator[np.ndarray]:
    """Grey frames with a white square crossing from left to right, made one at a time."""
    side = height // 4
    for i in range(count):
        frame = np.full((height, width, 3), GREY, np.uint8)
        x = (width - side) * i // max(1, count - 1)
        frame[(height - side) // 2 : (height + side) // 2, x : x + side] = 255
        yield frame


def flat_levels(levels: list[int], width: int = 96, height: int = 64) -> Iterator[np.ndarray]:
    for level in levels:
        yield np.full((height, width, 3), level, np.uint8)


def _square_centre_x(frame: np.ndarray) -> float:
    xs = np.nonzero((frame.min(axis=2) > 200).any(axis=0))[0]
    assert len(xs) > 0, "no square in the frame"
    return float(xs.mean())


@pytest.mark.parametrize(
    "ratio", [AspectRatio.WIDE, AspectRatio.CINEMA_PORTRAIT], ids=["16:9", "9:21"]
)
def test_api_size_from_a_9_frame_source(tmp_path: Path, ratio: AspectRatio) -> None:
    width, height = frame_size(Resolution.P480, ratio)
    frames = frame_count(5)
    out = tmp_path / "clip.mp4"
    stats = render_video(
        moving_square(9, 160, 96),
        src_count=9,
        out_path=out,
        width=width,
        height=height,
        num_frames=frames,
        metadata=TAGS,
    )
    info = probe(out, keep=[0, 60, 120])
    assert (info.width, info.height) == (width, height)
    assert info.frame_count == frames == stats.frames == 121
    assert info.average_rate == 24
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    boxes = top_level_boxes(out.read_bytes())
    assert boxes.index("moov") < boxes.index("mdat")
    assert {k: info.tags[k] for k in TAGS} == TAGS
    assert stats.bytes == out.stat().st_size
    assert (stats.width, stats.height, stats.fps) == (width, height, 24)
    # Halfway through, the square is in the middle of the frame, whatever the crop.
    assert abs(_square_centre_x(info.kept[60]) - width / 2) < 0.05 * width
    if width > height:  # the 9:21 crop cuts the ends of the square's path away
        xs = [_square_centre_x(info.kept[i]) for i in (0, 60, 120)]
        assert xs[0] < 0.15 * width and xs[2] > 0.85 * width


def test_frames_follow_the_timeline(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    levels = [16, 48, 80, 112, 144, 176, 208, 240, 240]
    render_video(
        flat_levels(levels), src_count=9, out_path=out, width=96, height=64, num_frames=121
    )
    keep = [0, 7, 8, 15, 30, 45, 120]
    kept = probe(out, keep=keep).kept
    # Output i sits at source position i / 15 and shows the nearest source frame, whole
    # (never a cross-fade): 0, 7/15 -> 0, 8/15 -> 1, 1, 2, 3, 8.
    expected = [16, 16, 48, 48, 80, 112, 240]
    got = [float(kept[i][32, 48].mean()) for i in keep]
    assert got == pytest.approx(expected, abs=3)


def test_title_and_comment_are_written(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    render_video(
        flat_levels([50]),
        src_count=1,
        out_path=out,
        width=96,
        height=64,
        num_frames=3,
        metadata=TAGS,
    )
    tags = probe(out).tags
    assert tags["title"] == TAGS["clipforge_prompt"]
    assert "AI generated" in tags["comment"]


def _corner_render(tmp_path: Path, watermark: bool) -> tuple[np.ndarray, Watermark]:
    width, height = frame_size(Resolution.P480, AspectRatio.WIDE)
    out = tmp_path / f"mark-{watermark}.mp4"
    render_video(
        flat_levels([GREY] * 3, 208, 120),
        src_count=3,
        out_path=out,
        width=width,
        height=height,
        num_frames=5,
        watermark=watermark,
    )
    return probe(out, keep=[4]).kept[4], Watermark(width, height)


def test_watermark_visible_when_asked(tmp_path: Path) -> None:
    frame, mark = _corner_render(tmp_path, watermark=True)
    left, top, right, bottom = mark.box
    corner = frame[top:bottom, left:right].astype(int)
    assert corner.max() >= 200 and corner.min() <= 60
    rest = frame.copy()
    rest[top:bottom, left:right] = GREY
    assert np.abs(rest.astype(int) - GREY).max() <= 12  # only codec noise near the mark


def test_watermark_absent_when_not_asked(tmp_path: Path) -> None:
    frame, mark = _corner_render(tmp_path, watermark=False)
    left, top, right, bottom = mark.box
    assert np.abs(frame[top:bottom, left:right].astype(int) - GREY).max() <= 3


def _failing_source(count: int) -> Iterator[np.ndarray]:
    yield from flat_levels([GREY] * count)
    raise RuntimeError("backend died")


def test_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError, match="backend died"):
        render_video(
            _failing_source(4), src_count=9, out_path=out, width=96, height=64, num_frames=25
        )
    assert list(tmp_path.iterdir()) == []


def test_short_source_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"previous")
    with pytest.raises(ValueError, match="expected 9"):
        render_video(
            flat_levels([GREY] * 5),
            src_count=9,
            out_path=out,
            width=96,
            height=64,
            num_frames=25,
        )
    assert list(tmp_path.iterdir()) == [out]
    assert out.read_bytes() == b"previous"


def test_odd_size_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        render_video(
            flat_levels([GREY]),
            src_count=1,
            out_path=tmp_path / "x.mp4",
            width=95,
            height=64,
            num_frames=3,
        )
    assert list(tmp_path.iterdir()) == []


def test_ten_seconds_stream_through_little_memory(tmp_path: Path) -> None:
    width, height = frame_size(Resolution.P480, AspectRatio.WIDE)
    frames = frame_count(10)
    whole_clip = frames * width * height * 3
    tracemalloc.start()
    try:
        stats = render_video(
            moving_square(81, 832, 480),
            src_count=81,
            out_path=tmp_path / "ten.mp4",
            width=width,
            height=height,
            num_frames=frames,
            watermark=True,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.frames == 241
    # About 14 MiB: two source frames, float32 blend buffers, one output frame; the whole
    # clip would be 300 MB (a version that lists the frames peaks at 285 MiB).
    assert peak < whole_clip / 10, f"peak {peak / 2**20:.1f} MiB"
    assert probe(tmp_path / "ten.mp4").frame_count == 241


def test_video_imports_nothing_outside_its_seam() -> None:
    code = (
        "import sys, clipforge.video\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'fastapi', 'pydantic')\n"
        "       or m.startswith(('clipforge.backends', 'clipforge.store', 'clipforge.api'))]\n"
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
