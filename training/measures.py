"""What the evaluation measures on frames (`eval.py`): the asked colour as one compact blob,
the motion its track shows, a frame's background colours, PSNR, and binomial bounds."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from training.colour_difference import ciede2000, rgb_to_lab

CLOSE = 15.0  # CIEDE2000: the target of issue 30


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def figure(values: list[bool]) -> dict[str, float]:
    hits, n = int(sum(values)), len(values)
    low, high = wilson(hits, n)
    return {
        "rate": round(hits / max(n, 1), 4),
        "low": round(low, 4),
        "high": round(high, 4),
        "n": n,
    }


def distance(a: np.ndarray, b: object) -> np.ndarray:
    return ciede2000(rgb_to_lab(np.asarray(a)), rgb_to_lab(np.asarray(b)))


def near(pixels: np.ndarray, rgb: object) -> np.ndarray:
    """Which pixels are within CIEDE2000 CLOSE of `rgb`: measured where the RGB difference
    leaves it possible (no channel 160 apart), for speed."""
    pixels = np.asarray(pixels)
    out = np.zeros(pixels.shape[:-1], dtype=bool)
    maybe = np.abs(pixels.astype(np.int16) - np.asarray(rgb, dtype=np.int16)).max(axis=-1) < 160
    out[maybe] = distance(pixels[maybe], rgb) <= CLOSE
    return out


def object_blob(frame: np.ndarray, rgb: tuple[int, int, int]) -> tuple[bool, np.ndarray | None]:
    """(clean, (x, y, area)) of one frame: the asked colour as one compact blob."""
    near_colour = near(frame, rgb)
    labels, count = ndimage.label(near_colour)
    if count == 0:
        return False, None
    sizes = ndimage.sum(near_colour, labels, range(1, count + 1))
    blob = labels == int(np.argmax(sizes)) + 1
    ys, xs = np.nonzero(blob)
    box = (np.ptp(ys) + 1) * (np.ptp(xs) + 1)
    compact = blob.sum() / box >= 0.35 and blob.sum() >= 4
    stray = (near_colour.sum() - blob.sum()) <= 0.05 * blob.sum()
    return bool(compact and stray), np.array([xs.mean(), ys.mean(), blob.sum()])


def motion_of(found: list[np.ndarray | None], width: int, height: int) -> str:
    """The motion a blob's track shows: a direction, bouncing, growing, shrinking or still."""
    track = np.array([f for f in found if f is not None])
    if len(track) < 2:
        return "unknown"
    dx, dy = (track[-1, :2] - track[0, :2]) / np.array([width, height])
    rise = (track[0, 1] - track[:, 1].min()) / height
    if max(abs(dx), abs(dy)) >= 0.1:
        if abs(dx) > abs(dy):
            return "right" if dx > 0 else "left"
        return "down" if dy > 0 else "up"
    if rise >= 0.15:
        return "bouncing"
    ratio = track[-1, 2] / max(track[0, 2], 1.0)
    return "growing" if ratio > 1.5 else "shrinking" if ratio < 1 / 1.5 else "still"


def background_colours(
    frame: np.ndarray, rgb: tuple[int, int, int]
) -> list[tuple[np.ndarray, float]]:
    """The colours covering >= 2% of a frame's pixels away from the object's colour, and
    their shares, most common first."""
    away = frame[~near(frame, rgb)]
    values, counts = np.unique(away, axis=0, return_counts=True)
    shares = counts / max(1, counts.sum())
    return [(values[i], float(shares[i])) for i in np.argsort(-shares) if shares[i] >= 0.02]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 100.0 if mse == 0 else 10 * math.log10(255**2 / mse)
