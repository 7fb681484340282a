"""The object's shape: stage 6 of the analyser (`analyse.py`).

The coverage mask of the largest frames where the object lies fully inside is resampled onto
a 3 x 3 grid over its (sub-pixel) bounding box; together with the fill ratio of the box and
the up/down balance of the mass, it is matched to prototypes made by rendering each shape
large with `scenes.render_scene`.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import ndimage

from training.resampling import overlap
from training.scenes import SHAPES, Scene, render_scene

FEATURE_WEIGHTS = np.array([1.0] * 9 + [2.0, 3.0])
PROTOTYPE_BLURS = (0.0, 0.04, 0.08, 0.12, 0.16)
"""Blurs of the prototypes, as a Gaussian's sigma in object diameters: a generated clip may
be softer than the renders."""


def classify_shape(
    regions: np.ndarray, areas: np.ndarray, found: np.ndarray, clipped: np.ndarray
) -> tuple[str | None, np.ndarray]:
    """The shape of the object with coverage `regions` (T, H, W) and `areas` (T,), seen in
    the `found` frames and touching the border in the `clipped` ones; and its area-weighted
    mean distance to each shape over the (up to) three largest whole views (all found
    frames if none is whole)."""
    inside = np.nonzero(found & ~clipped)[0]
    if len(inside) == 0:
        inside = np.nonzero(found)[0]
    largest = inside[np.argsort(-areas[inside], kind="stable")[:3]]
    scores = np.zeros(len(SHAPES))
    for t in largest:
        distances = shape_distances(regions[t])
        if distances is not None:
            scores += distances * areas[t]
    shape = SHAPES[int(scores.argmin())] if scores.any() else None
    scores /= max(float(areas[largest].sum()), 1e-6)
    return shape, scores


def shape_distances(alpha: np.ndarray) -> np.ndarray | None:
    """Distance of a coverage mask to each shape: to its nearest blur of the prototype."""
    features = shape_features(alpha)
    if features is None:
        return None
    gaps = np.sqrt((((shape_prototypes() - features) * FEATURE_WEIGHTS) ** 2).sum(-1))
    return gaps.min(axis=1)


def shape_features(alpha: np.ndarray) -> np.ndarray | None:
    """Scale-invariant features of a coverage mask (H, W) in [0, 1]: the 3 x 3 grid of mean
    coverage over its bounding box (9 values), the fill ratio of the box, and where the
    mass sits between the top (0) and the bottom (1) of the box."""
    box = _soft_box(alpha)
    if box is None:
        return None
    left, top, right, bottom = box
    if right - left < 1 or bottom - top < 1:
        return None
    height, width = alpha.shape
    rows = overlap(3, top, bottom, height)
    cols = overlap(3, left, right, width)
    grid = rows @ alpha @ cols.T  # mean coverage per cell
    area = float(alpha.sum())
    fill = area / ((bottom - top) * (right - left))
    centre_y = float((alpha.sum(1) * (np.arange(height) + 0.5)).sum()) / max(area, 1e-6)
    balance = (centre_y - top) / (bottom - top)
    return np.concatenate([grid.ravel(), [fill, balance]])


@functools.cache
def shape_prototypes() -> np.ndarray:
    """(len(SHAPES), len(PROTOTYPE_BLURS), features) from large renders of each shape by the
    scene generator, sharp and blurred."""
    size, diameter = 128, 0.6 * 128
    table = []
    for shape in SHAPES:
        scene = Scene("white", shape, "still", "plain", "black", "fixed", size=0.6)
        frame = render_scene(scene, size, size, 1)[0].astype(np.float32)
        alpha = np.clip((frame[..., 0] - 15.0) / (245.0 - 15.0), 0, 1)
        rows = []
        for blur in PROTOTYPE_BLURS:
            soft = ndimage.gaussian_filter(alpha, blur * diameter) if blur else alpha
            features = shape_features(soft)
            assert features is not None
            rows.append(features)
        table.append(rows)
    return np.array(table)


def _soft_box(alpha: np.ndarray) -> tuple[float, float, float, float] | None:
    """Sub-pixel bounding box (left, top, right, bottom) of a coverage mask: along each axis
    the profile of the largest coverage is a plateau with soft ends, its sum the length and
    its centroid the middle of the box."""

    def extent(profile: np.ndarray) -> tuple[float, float] | None:
        profile = np.where(profile > 0.05, profile, 0.0)
        length = float(profile.sum())
        if length <= 0:
            return None
        middle = float((profile * (np.arange(len(profile)) + 0.5)).sum()) / length
        return middle - length / 2, middle + length / 2

    horizontal, vertical = extent(alpha.max(axis=0)), extent(alpha.max(axis=1))
    if horizontal is None or vertical is None:
        return None
    return horizontal[0], vertical[0], horizontal[1], vertical[1]
