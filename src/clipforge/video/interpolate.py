"""Motion-compensated frame-rate conversion with FFmpeg's `minterpolate` (PyAV's own FFmpeg).

`mi_mode=mci` estimates motion between neighbouring native frames and draws the in-between
frames along it (overlapped-block compensation, bidirectional search): a moving edge moves
instead of doubling as it does in a cross-fade. Frames stream through the filter graph; only
the filter's own look-ahead is held.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction

import av
import numpy as np
from av.filter import Graph

FILTER_OPTIONS = "mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1"


def _graph(width: int, height: int, src_fps: Fraction, dst_fps: int) -> Graph:
    graph = Graph()
    # The rate must reach the filter: minterpolate times its output from it.
    arguments = f"video_size={width}x{height}:pix_fmt=rgb24:time_base={1 / src_fps}"
    source = graph.add("buffer", f"{arguments}:frame_rate={src_fps}:pixel_aspect=1/1")
    interpolate = graph.add("minterpolate", f"fps={dst_fps}:{FILTER_OPTIONS}")
    sink = graph.add("buffersink")
    source.link_to(interpolate)
    interpolate.link_to(sink)
    graph.configure()
    return graph


def _drain(graph: Graph) -> Iterator[np.ndarray]:
    while True:
        try:
            frame = graph.vpull()
        except (av.BlockingIOError, av.EOFError):
            return
        yield frame.to_ndarray(format="rgb24")


def motion_interpolate(
    frames: Iterable[np.ndarray], src_fps: float, dst_fps: int, dst_count: int
) -> Iterator[np.ndarray]:
    """``dst_count`` uint8 RGB frames at ``dst_fps`` drawn from ``frames`` at ``src_fps``
    (first frames aligned). The last output frame is repeated if the filter ends short."""
    rate = Fraction(src_fps).limit_denominator(1001)
    graph: Graph | None = None
    made = 0
    last: np.ndarray | None = None
    for index, image in enumerate(frames):
        if graph is None:
            graph = _graph(image.shape[1], image.shape[0], rate, dst_fps)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = index
        frame.time_base = 1 / rate
        graph.vpush(frame)
        for out in _drain(graph):
            if made < dst_count:
                made, last = made + 1, out
                yield out
    if graph is None:
        raise ValueError("no frames to interpolate")
    graph.vpush(None)
    for out in _drain(graph):
        if made < dst_count:
            made, last = made + 1, out
            yield out
    while made < dst_count and last is not None:
        made += 1
        yield last
