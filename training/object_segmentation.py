"""Separating the object from the background: stages 1-3 of the analyser (`analyse.py`).

1. Background model: the dominant colours of a ring along the frame border over the whole
   clip (mode seeking on a colour histogram), so a textured background (stripes, checks,
   dots) gives its tone and its texture shade.
2. Object colour: per frame, connected regions far from every background colour; each votes
   with its area for the palette colour (`scenes.COLOURS`) nearest its core pixels.
3. Object mask: every pixel is explained as a mix of one background colour and the object
   colour; the mix weight is the pixel's coverage, so areas and centroids are sub-pixel.
   The largest connected region above half coverage is the object in that frame.

Colour distances are Euclidean in RGB (0-255); clips are float32 (T, H, W, 3).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from training.scenes import COLOURS

PALETTE_NAMES = tuple(COLOURS)
PALETTE = np.array([COLOURS[name] for name in PALETTE_NAMES], dtype=np.float32)

BG_RADIUS = 24.0
"""Pixels this close to a background colour belong to it when the colour is measured."""
BG_MIN_SHARE = 0.05
"""A background colour covers at least this share of the border ring."""
CANDIDATE_DISTANCE = 40.0
"""A pixel this far from every background colour may be part of the object."""
PALETTE_TOLERANCE = 90.0
"""The object's core colour lies this close to its palette colour."""
MIX_RESIDUAL = 45.0
"""How far a pixel may lie off the line between a background colour and the object colour."""

FRAME_8 = np.zeros((3, 3, 3), dtype=bool)
FRAME_8[1] = True  # 8-connected within a frame, never across frames


def background_colours(clip: np.ndarray) -> np.ndarray:
    """(k, 3) dominant colours of the border ring over the clip, most common first."""
    _, height, width, _ = clip.shape
    band = max(1, round(min(height, width) / 8))
    ring = np.zeros((height, width), dtype=bool)
    ring[:band], ring[-band:], ring[:, :band], ring[:, -band:] = True, True, True, True
    pixels = clip[:, ring].reshape(-1, 3)
    if len(pixels) > 40_000:
        pixels = pixels[:: len(pixels) // 40_000 + 1]
    total = len(pixels)
    found: list[np.ndarray] = []
    remaining = pixels
    for _ in range(12):
        if len(found) == 4 or len(remaining) < BG_MIN_SHARE * total:
            break
        centre = _colour_mode(remaining)
        distance = np.linalg.norm(remaining - centre, axis=1)
        share = float((distance < BG_RADIUS).sum()) / total
        if share < BG_MIN_SHARE:  # a stray peak (noise, edges): drop it, look further
            remaining = remaining[distance >= BG_RADIUS]
            continue
        remaining = remaining[distance >= CANDIDATE_DISTANCE]
        near_palette = float(np.linalg.norm(PALETTE - centre, axis=1).min()) < CANDIDATE_DISTANCE
        if near_palette and share < 0.25:
            continue  # an object colour crossing the border, not the background
        found.append(centre)
    return np.array(found, dtype=np.float32).reshape(-1, 3)


def _colour_mode(pixels: np.ndarray) -> np.ndarray:
    """The most common colour of (n, 3) pixels: the fullest bin of an 8 x 8 x 8 histogram,
    refined by mean shift."""
    bins = np.minimum(pixels // 32, 7).astype(np.int64)
    key = int(np.argmax(np.bincount(bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2])))
    centre = (np.array([key // 64, key // 8 % 8, key % 8], dtype=np.float32) + 0.5) * 32
    for _ in range(5):  # mean shift with a median: settles on the colour itself
        near = np.linalg.norm(pixels - centre, axis=1) < BG_RADIUS
        if not near.any():
            break
        centre = np.median(pixels[near], axis=0)
    return centre


def object_colour(
    clip: np.ndarray, background: np.ndarray
) -> tuple[int | None, float | None, np.ndarray]:
    """The palette index the candidate regions vote for, its core distance, and the
    candidate mask (every pixel where no background colour was found)."""
    if not len(background):
        return None, None, np.ones(clip.shape[:3], dtype=bool)
    distance = np.linalg.norm(clip[..., None, :] - background, axis=-1).min(-1)
    candidate = distance > CANDIDATE_DISTANCE
    labels, count = ndimage.label(candidate, structure=FRAME_8)
    votes = np.zeros(len(PALETTE))
    best: dict[int, list[float]] = {}
    if count:
        slices = ndimage.find_objects(labels)
        for index, box in enumerate(slices, start=1):
            inside = labels[box] == index
            size = int(inside.sum())
            if size < 2:
                continue
            pixels = clip[box][inside]
            strength = distance[box][inside]
            core = pixels[strength >= np.quantile(strength, 0.6)]
            gaps = np.linalg.norm(PALETTE - np.median(core, axis=0), axis=1)
            nearest = int(gaps.argmin())
            if gaps[nearest] < PALETTE_TOLERANCE:
                votes[nearest] += size
                best.setdefault(nearest, []).append(float(gaps[nearest]))
    if votes.max() <= 0:
        return None, None, candidate
    winner = int(votes.argmax())
    return winner, float(np.median(best[winner])), candidate


def _mix(clip: np.ndarray, background: np.ndarray, colour: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per pixel: coverage by `colour` over the best-fitting background colour, and the
    distance of the pixel from that mix. A pixel at a background colour is background, even
    where it also lies on the line between another background colour and the object's (a
    light texture shade between a grey tone and a white object, say)."""
    delta = colour - background  # (k, 3)
    offset = clip[..., None, :] - background  # (T, H, W, k, 3)
    alpha = np.clip((offset * delta).sum(-1) / (delta * delta).sum(-1).clip(1e-6), 0.0, 1.0)
    residual = np.linalg.norm(offset - alpha[..., None] * delta, axis=-1)
    best = residual.argmin(-1)[..., None]
    nearest = np.linalg.norm(offset, axis=-1).min(-1)
    gate = np.clip((nearest - 10.0) / 15.0, 0.0, 1.0)
    return (
        np.take_along_axis(alpha, best, -1)[..., 0] * gate,
        np.take_along_axis(residual, best, -1)[..., 0],
    )


def object_coverage(
    clip: np.ndarray, background: np.ndarray, colour_index: int | None
) -> np.ndarray:
    """(T, H, W) coverage of the object in each frame: the largest region above half
    coverage by the palette colour `colour_index`, grown by a pixel for its soft edge
    (zero everywhere when there is no object colour)."""
    if colour_index is None:
        return np.zeros(clip.shape[:3], dtype=np.float32)
    alpha, residual = _mix(clip, background, PALETTE[colour_index])
    alpha = np.where(residual < MIX_RESIDUAL, alpha, 0.0)
    labels, _ = ndimage.label(alpha > 0.5, structure=FRAME_8)
    regions = np.zeros(clip.shape[:3], dtype=np.float32)
    for t in range(len(clip)):
        ids = np.unique(labels[t][labels[t] > 0])
        if len(ids) == 0:
            continue
        soft = [float(alpha[t][labels[t] == i].sum()) for i in ids]
        chosen = labels[t] == ids[int(np.argmax(soft))]
        grown = ndimage.binary_dilation(chosen, structure=np.ones((3, 3), dtype=bool))
        others = (labels[t] > 0) & ~chosen
        regions[t] = np.where(grown & ~others, alpha[t], 0.0)
    return regions
