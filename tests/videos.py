"""Test videos built in code with PyAV (MP4 and WebM, a colour per frame so the last one
can be told apart), and the hostile files that pretend to be videos."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from tests.images import encoded, halves


def shade(index: int) -> int:
    """The grey level of frame `index` (the frames differ, so the last one is known)."""
    return (40 + index * 7) % 200 + 20


def video(
    frames: int = 30,
    size: tuple[int, int] = (128, 96),
    kind: str = "mp4",
    key_every: int = 12,
    picture: Callable[[int, int, int], np.ndarray] | None = None,
    index_first: bool = False,
) -> bytes:
    """An H.264 MP4 or a VP9 WebM: `frames` flat grey frames of `size`, a key frame every
    `key_every` frames (`picture(index, width, height)` draws a frame instead); an MP4's
    index at the start with `index_first` (as for streaming)."""
    if index_first:  # FFmpeg moves the index in a second pass over a file
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "video.mp4"
            _write(str(path), frames, size, kind, key_every, picture, {"movflags": "faststart"})
            return path.read_bytes()
    out = io.BytesIO()
    _write(out, frames, size, kind, key_every, picture, {})
    return out.getvalue()


def _write(
    out: str | io.BytesIO,
    frames: int,
    size: tuple[int, int],
    kind: str,
    key_every: int,
    picture: Callable[[int, int, int], np.ndarray] | None,
    options: dict[str, str],
) -> None:
    width, height = size
    codec = {"mp4": "libx264", "webm": "libvpx-vp9"}[kind]
    with av.open(out, "w", format=kind, options=options) as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.gop_size = key_every
        if kind == "mp4":
            stream.options = {"preset": "ultrafast", "x264-params": "scenecut=0"}
        else:
            stream.options = {"deadline": "realtime", "cpu-used": "8"}
        for index in range(frames):
            pixels = (picture or _flat)(index, width, height)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _flat(index: int, width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), shade(index), np.uint8)


def image_as(kind: str) -> bytes:
    """A still image in a format FFmpeg reads but ClipForge does not take as a video."""
    return encoded(halves(128, 96), kind)


def ffconcat(path: str) -> bytes:
    """An FFmpeg concat list naming a file (what reads a server file if probed for)."""
    return f"ffconcat version 1.0\nfile '{path}'\n".encode()


def long_static(frames: int, key_every: int, size: tuple[int, int] = (1920, 1080)) -> bytes:
    """A long, small MP4 that is slow to decode whole: one still 1080p picture, its key frame
    and a skipped frame encoded once, then muxed again and again (`frames` in all)."""
    encoded_pair = video(2, size, key_every=1000, picture=lambda i, w, h: _flat(0, w, h))
    with av.open(io.BytesIO(encoded_pair)) as source:
        template = source.streams.video[0]
        key, skip = [p for p in source.demux(template) if p.size]
        out = io.BytesIO()
        with av.open(out, "w", format="mp4") as container:
            stream = container.add_stream_from_template(template)
            step = int(skip.pts - key.pts)
            for index in range(frames):
                chosen = key if index % key_every == 0 else skip
                packet = av.Packet(bytes(chosen))
                packet.stream, packet.time_base = stream, chosen.time_base
                packet.pts = packet.dts = index * step
                packet.is_keyframe = chosen is key
                container.mux(packet)
    return out.getvalue()
