"""Getting clips to the analyser's size: area averaging in space, even picks in time.

`overlap` is the area-averaging matrix behind `downscale`; the shape features
(`shape_matching.py`) use it too, to average a coverage mask over a grid on its bounding box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def overlap(n_out: int, start: float, stop: float, n_in: int) -> np.ndarray:
    """(n_out, n_in) matrix: how much of input pixel j (covering [j, j+1)) falls in output
    cell i of [start, stop) cut into n_out equal cells, divided by the cell length."""
    edges = start + (stop - start) * np.arange(n_out + 1) / n_out
    lo = np.maximum(edges[:-1, None], np.arange(n_in)[None, :])
    hi = np.minimum(edges[1:, None], np.arange(n_in)[None, :] + 1)
    return np.clip(hi - lo, 0.0, None) / ((stop - start) / n_out)


def downscale(frames: np.ndarray, short_side: int = 32) -> np.ndarray:
    """Area-average uint8 frames (T, H, W, 3) down so the short side is `short_side`
    (frames already that small or smaller are returned unchanged)."""
    _, height, width, _ = frames.shape
    if min(height, width) <= short_side:
        return frames
    scale = short_side / min(height, width)
    out_h, out_w = max(1, round(height * scale)), max(1, round(width * scale))
    rows = overlap(out_h, 0, height, height)  # each row sums to 1
    cols = overlap(out_w, 0, width, width)
    out = np.einsum("ih,thwc->tiwc", rows, frames.astype(np.float32))
    out = np.einsum("tiwc,jw->tijc", out, cols)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def read_video(path: str | Path, short_side: int = 32, frames: int = 16) -> np.ndarray:
    """uint8 frames (T, H, W, 3) of a video, scaled down to `short_side` and subsampled to
    ~`frames` evenly spaced frames."""
    import av

    decoded = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            scale = short_side / min(frame.width, frame.height)
            if scale < 1:  # swscale's area average, with the stream's own colour matrix
                size = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
                frame = frame.reformat(*size, format="rgb24", interpolation="AREA")
            decoded.append(frame.to_ndarray(format="rgb24"))
    if not decoded:
        raise ValueError(f"{path}: no video frames")
    picks = np.unique(np.round(np.linspace(0, len(decoded) - 1, frames)).astype(int))
    return np.stack([decoded[i] for i in picks])
