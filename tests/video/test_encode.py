"""The H.264 encoder, checked by decoding the MP4 it writes with PyAV."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from clipforge.video import H264Encoder

PROMPT = "Ein Drache fliegt über Zürich — 龍が飛ぶ 🐉"
TAGS = {
    "clipforge_prompt": PROMPT,
    "clipforge_seed": "4294967295",
    "clipforge_model": "bytedance/seedance-1-0-pro-t2v",
}


def top_level_boxes(data: bytes) -> list[str]:
    """The types of the top-level MP4 boxes, in file order."""
    boxes: list[str] = []
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:  # 64-bit size follows the type
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:  # box runs to the end of the file
            size = len(data) - offset
        assert size >= 8, f"corrupt box at {offset}"
        boxes.append(kind.decode("latin-1"))
        offset += size
    assert offset == len(data), "boxes do not tile the file"
    return boxes


@dataclass
class Probe:
    """What decoding a file tells about it."""

    width: int
    height: int
    average_rate: Fraction | None
    codec: str
    pix_fmt: str | None
    frame_count: int
    tags: dict[str, str]
    times: list[float]
    kept: dict[int, np.ndarray] = field(default_factory=dict)


def probe(path: Path, keep: Iterable[int] = ()) -> Probe:
    """Decode every frame of ``path``, keeping the RGB pixels of the frames in ``keep``."""
    wanted = set(keep)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        result = Probe(
            stream.codec_context.width,
            stream.codec_context.height,
            stream.average_rate,
            stream.codec_context.name,
            stream.codec_context.pix_fmt,
            0,
            dict(container.metadata),
            [],
        )
        for frame in container.decode(stream):
            if result.frame_count in wanted:
                result.kept[result.frame_count] = frame.to_ndarray(format="rgb24")
            result.times.append(float(frame.time or 0.0))
            result.frame_count += 1
    return result


def _gradient(width: int, height: int, shift: int) -> np.ndarray:
    x = (np.arange(width) * 255 // max(1, width - 1) + shift) % 256
    frame = np.empty((height, width, 3), np.uint8)
    frame[..., 0] = x[None, :]
    frame[..., 1] = (np.arange(height) * 255 // max(1, height - 1))[:, None]
    frame[..., 2] = 128
    return frame


def _encode(path: Path, count: int, width: int = 160, height: int = 96, **kwargs: object) -> None:
    with H264Encoder(path, width, height, **kwargs) as encoder:  # type: ignore[arg-type]
        for i in range(count):
            encoder.write(_gradient(width, height, 3 * i))


def test_stream_properties(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    _encode(path, 30, metadata=TAGS)
    info = probe(path)
    assert (info.width, info.height) == (160, 96)
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.average_rate == 24
    assert info.frame_count == 30
    assert info.times == pytest.approx([i / 24 for i in range(30)])


def test_moov_precedes_mdat(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    _encode(path, 48)
    boxes = top_level_boxes(path.read_bytes())
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_metadata_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    _encode(path, 5, metadata={**TAGS, "title": PROMPT, "comment": "AI generated"})
    tags = probe(path).tags
    for key, value in TAGS.items():
        assert tags[key] == value
    assert tags["title"] == PROMPT
    assert tags["comment"] == "AI generated"


def test_colours_survive(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    colours = [(200, 30, 40), (20, 180, 60), (40, 60, 220), (128, 128, 128)]
    with H264Encoder(path, 64, 64) as encoder:
        for colour in colours:
            encoder.write(np.full((64, 64, 3), colour, np.uint8))
    kept = probe(path, keep=range(4)).kept
    for i, colour in enumerate(colours):
        assert np.abs(kept[i][32, 32].astype(int) - colour).max() <= 6


def test_stats(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with H264Encoder(path, 160, 96, crf=30, preset="ultrafast") as encoder:
        for i in range(12):
            encoder.write(_gradient(160, 96, i))
        assert encoder.frames == 12
    stats = encoder.close()  # closing again returns the same stats
    assert stats.frames == 12
    assert stats.bytes == path.stat().st_size > 0
    assert stats.seconds > 0


def test_lower_crf_means_a_bigger_file(tmp_path: Path) -> None:
    _encode(tmp_path / "fine.mp4", 24, crf=12)
    _encode(tmp_path / "coarse.mp4", 24, crf=35)
    assert (tmp_path / "fine.mp4").stat().st_size > (tmp_path / "coarse.mp4").stat().st_size


@pytest.mark.parametrize(
    ("width", "height", "kwargs"),
    [
        (161, 96, {}),
        (160, 95, {}),
        (0, 96, {}),
        (160, 96, {"crf": 52}),
        (160, 96, {"preset": "warp"}),
        (160, 96, {"fps": 0}),
    ],
)
def test_invalid_settings_raise_before_writing(
    tmp_path: Path, width: int, height: int, kwargs: dict[str, object]
) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(ValueError):
        H264Encoder(path, width, height, **kwargs)  # type: ignore[arg-type]
    assert not path.exists()


def test_wrong_frames_raise(tmp_path: Path) -> None:
    with H264Encoder(tmp_path / "out.mp4", 160, 96) as encoder:
        with pytest.raises(ValueError):
            encoder.write(np.zeros((96, 162, 3), np.uint8))
        with pytest.raises(ValueError):
            encoder.write(np.zeros((96, 160, 3), np.float32))
        encoder.write(np.zeros((96, 160, 3), np.uint8))
    with pytest.raises(ValueError, match="closed"):
        encoder.write(np.zeros((96, 160, 3), np.uint8))


def test_accepts_non_contiguous_frames(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    big = _gradient(320, 96, 0)
    with H264Encoder(path, 160, 96) as encoder:
        encoder.write(big[:, ::2])
    assert probe(path).frame_count == 1


def test_error_inside_the_block_propagates(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="boom"), H264Encoder(path, 160, 96) as encoder:
        encoder.write(_gradient(160, 96, 0))
        raise RuntimeError("boom")
    assert encoder.close().bytes == 0
