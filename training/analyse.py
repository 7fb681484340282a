"""Automatic analyser of generated clips: what object, which colour and shape, how it moves.

    python training/analyse.py --check 200      # accuracy on ground-truth renders
    python training/analyse.py clip.mp4          # analyse a video file

Classical computer vision on uint8 frames (T, H, W, 3), no learning:

1. Background model: the dominant colours of a ring along the frame border over the whole
   clip (mode seeking on a colour histogram), so a textured background (stripes, checks,
   dots) gives its tone and its texture shade.
2. Object colour: per frame, connected regions far from every background colour; each votes
   with its area for the palette colour (`scenes.COLOURS`) nearest its core pixels.
3. Object mask: every pixel is explained as a mix of one background colour and the object
   colour; the mix weight is the pixel's coverage, so areas and centroids are sub-pixel.
   The largest connected region above half coverage is the object in that frame.
4. Camera: each frame's smoothed background (object masked out) is registered to the first
   frame's by robust Levenberg-Marquardt over a shift and a zoom about the frame centre,
   starting from the previous frames' camera, so periodic textures do not alias. A fit that
   explains the background no better than a still camera (noise) is dropped, and a
   background without texture carries no camera motion at all: both count as still.
5. Motion: the object's centroid and area are mapped back through the camera into the first
   frame's coordinates, then classified from the net displacement (a line fit), the
   vertical swing about that line (bouncing) and the growth of the area (a log-linear fit).
   Frames where the object touches the frame border are left out of these fits.
6. Shape: the coverage mask of the largest frames where the object lies fully inside is
   resampled onto a 3 x 3 grid over its (sub-pixel) bounding box; together with the fill
   ratio of the box and the up/down balance of the mass, it is matched to prototypes made by
   rendering each shape large with `scenes.render_scene`.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scenes import COLOURS, SHAPES, Scene, random_scene, render_scene
from scipy import ndimage

PALETTE_NAMES = tuple(COLOURS)
PALETTE = np.array([COLOURS[name] for name in PALETTE_NAMES], dtype=np.float32)

# Colour distances are Euclidean in RGB (0-255).
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
MIN_AREA = 2.5
"""Smallest object, in pixels of coverage, at the clip's own size."""
STILL_CAMERA = 0.05
"""Most the background may move (in short sides) for the camera to count as still."""
TEXTURE_ENERGY = 4.0
"""Least mean squared gradient of the smoothed background for camera motion to be seen."""
CAMERA_GAIN = 2.0
"""A moving camera must explain some frame's background this many times better (robust
squared error) than a still one; fitting noise gains much less."""


@dataclass(frozen=True)
class Analysis:
    """What the analyser saw; the first four fields are the verdict, the rest its evidence.

    Coordinates are pixels (x right, y down) with pixel centres on integers; the world
    coordinates are those of the first frame, with the camera's motion taken out.
    """

    colour: str | None
    shape: str | None
    motion: str | None
    camera_still: bool
    areas: tuple[float, ...]
    """Object coverage (pixels) per frame; 0 where no object was found."""
    track: tuple[tuple[float, float] | None, ...]
    """Object centroid on screen per frame (None where not found)."""
    world_track: tuple[tuple[float, float] | None, ...]
    """Object centroid in world (first-frame) coordinates per frame."""
    clipped: tuple[bool, ...]
    """Whether the object touches the frame border in that frame."""
    camera_shift: tuple[tuple[float, float], ...]
    """Background shift (dx, dy) in pixels per frame, relative to the first frame."""
    camera_zoom: tuple[float, ...]
    """Background zoom per frame, relative to the first frame."""
    camera_observable: bool
    """Whether the background has texture enough to see camera motion at all."""
    background: tuple[tuple[float, float, float], ...]
    """The background colours (RGB)."""
    colour_distance: float | None
    """Distance of the object's core colour to its palette colour."""
    shape_scores: tuple[tuple[str, float], ...]
    """Distance to each shape prototype (lower is closer)."""
    motion_features: tuple[tuple[str, float], ...]
    """net_x, net_y (fractions of width / height), swing (fraction of height), log_growth."""
    note: str = ""
    """Why a field is None, when it is."""

    @property
    def found(self) -> bool:
        return self.colour is not None


def check(analysis: Analysis, scene: Scene, *, camera_fixed: bool | None = None) -> dict[str, bool]:
    """Which attributes of `scene` the analysis got right: colour, shape, motion, and
    camera_still where the camera is expected to be still (`camera_fixed`, by default
    whether `scene.camera == "fixed"`)."""
    verdict = {
        "colour": analysis.colour == scene.colour,
        "shape": analysis.shape == scene.shape,
        "motion": analysis.motion == scene.motion,
    }
    if camera_fixed is None:
        camera_fixed = scene.camera == "fixed"
    if camera_fixed:
        verdict["camera_still"] = analysis.camera_still
    return verdict


# --- resampling -------------------------------------------------------------------------------


def _overlap(n_out: int, start: float, stop: float, n_in: int) -> np.ndarray:
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
    rows = _overlap(out_h, 0, height, height)  # each row sums to 1
    cols = _overlap(out_w, 0, width, width)
    out = np.einsum("ih,thwc->tiwc", rows, frames.astype(np.float32))
    out = np.einsum("tiwc,jw->tijc", out, cols)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


# --- background -------------------------------------------------------------------------------


def _background_colours(clip: np.ndarray) -> np.ndarray:
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
        bins = np.minimum(remaining // 32, 7).astype(np.int64)
        key = int(np.argmax(np.bincount(bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2])))
        centre = (np.array([key // 64, key // 8 % 8, key % 8], dtype=np.float32) + 0.5) * 32
        for _ in range(5):  # mean shift with a median: settles on the colour itself
            near = np.linalg.norm(remaining - centre, axis=1) < BG_RADIUS
            if not near.any():
                break
            centre = np.median(remaining[near], axis=0)
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


_FRAME_8 = np.zeros((3, 3, 3), dtype=bool)
_FRAME_8[1] = True  # 8-connected within a frame, never across frames


def _object_colour(
    clip: np.ndarray, background: np.ndarray
) -> tuple[int | None, float | None, np.ndarray]:
    """The palette index the candidate regions vote for, its core distance, and the
    candidate mask."""
    distance = np.linalg.norm(clip[..., None, :] - background, axis=-1).min(-1)
    candidate = distance > CANDIDATE_DISTANCE
    labels, count = ndimage.label(candidate, structure=_FRAME_8)
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


# --- camera -----------------------------------------------------------------------------------


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample (H, W, C) at float coordinates (clamped to the image)."""
    height, width = image.shape[:2]
    x = np.clip(x, 0, width - 1.000_01)
    y = np.clip(y, 0, height - 1.000_01)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx = (x - x0).astype(image.dtype)[:, None]
    fy = (y - y0).astype(image.dtype)[:, None]
    flat = image.reshape(height * width, -1)
    i = y0 * width + x0
    top = flat[i] * (1 - fx) + flat[i + 1] * fx
    bottom = flat[i + width] * (1 - fx) + flat[i + width + 1] * fx
    return top * (1 - fy) + bottom * fy


def _huber(residual: np.ndarray, k: float = 20.0) -> np.ndarray:
    size = np.abs(residual)
    return np.where(size < k, 0.5 * residual**2, k * (size - 0.5 * k))


def _register(
    smooth: np.ndarray, ignore: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Camera per frame relative to frame 0: shifts (T, 2), zooms (T,), the background's
    texture energy, and per frame how much better the fitted camera explains the
    background than a still one (cost of still / cost of fit, 1 where not fitted).
    A world point p of frame 0 is seen at c + zoom (p - c) + shift."""
    frames, height, width, channels = smooth.shape
    shifts = np.zeros((frames, 2))
    zooms = np.ones(frames)
    gains = np.ones(frames)
    gy, gx = np.gradient(smooth, axis=(1, 2))
    keep0 = ~ignore[0]
    energy = float(((gx[0] ** 2 + gy[0] ** 2).sum(-1))[keep0].mean()) if keep0.any() else 0.0
    if energy < TEXTURE_ENERGY:
        return shifts, zooms, energy, gains
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    radius = min(height, width) / 2  # zoom is measured as the displacement at this radius
    u, v = (xs[keep0] - cx) / radius, (ys[keep0] - cy) / radius
    reference = smooth[0][keep0]
    stacked = np.concatenate([smooth, gx, gy, ignore[..., None].astype(np.float32)], axis=-1)

    def sample(t: int, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = cx + (radius + params[2]) * u + params[0]
        y = cy + (radius + params[2]) * v + params[1]
        values = _bilinear(stacked[t], x, y)
        valid = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
        return values, valid & (values[:, -1] < 0.01)

    least = 0.15 * keep0.size

    def evaluate(t: int, params: np.ndarray, pull: np.ndarray, mu: float) -> tuple:
        """Samples, valid mask and robust cost (with the pull towards `pull`)."""
        values, valid = sample(t, params)
        if valid.sum() < least:
            return values, valid, np.inf
        residual = values[valid, :channels] - reference[valid]
        penalty = 0.5 * mu * float(((params - pull) ** 2).sum())
        return values, valid, float(_huber(residual).mean()) + penalty

    for t in range(1, frames):
        previous = np.array([*shifts[t - 1], (zooms[t - 1] - 1) * radius])
        params = previous.copy()
        if t >= 2:  # constant-velocity guess
            params += previous - np.array([*shifts[t - 2], (zooms[t - 2] - 1) * radius])
        # A weak pull towards the previous frame's camera: a direction the texture does not
        # constrain (along stripes) stays put instead of drifting.
        mu = 1e-3 * (energy / 2) * (1 + (u * u + v * v).mean()) / 3
        values, valid, current = evaluate(t, params, previous, mu)
        damping = 1e-3
        for _ in range(15):  # Levenberg-Marquardt on a robust (Huber) least squares
            if not np.isfinite(current):
                break
            sx = values[valid, channels : 2 * channels]
            sy = values[valid, 2 * channels : 3 * channels]
            residual = values[valid, :channels] - reference[valid]
            weight = 1.0 / np.maximum(1.0, np.abs(residual) / 20.0)
            jac = np.stack([sx, sy, sx * u[valid, None] + sy * v[valid, None]], axis=-1)
            count = residual.size
            hessian = np.einsum("nci,nc,ncj->ij", jac, weight, jac) / count
            gradient = np.einsum("nci,nc,nc->i", jac, weight, residual) / count
            for _ in range(6):
                system = hessian + mu * np.eye(3) + damping * np.diag(np.diag(hessian) + mu)
                step = -np.linalg.solve(system, gradient + mu * (params - previous))
                if np.abs(step).max() < 0.01:
                    break
                trial = params + step
                trial[2] = np.clip(trial[2], -0.4 * radius, 0.8 * radius)
                trial_values, trial_valid, trial_cost = evaluate(t, trial, previous, mu)
                if trial_cost < current:
                    params, values, valid, current = trial, trial_values, trial_valid, trial_cost
                    damping /= 3
                    break
                damping *= 8
            else:
                break
            if np.abs(step).max() < 0.02:
                break
        if np.any(params != previous):  # never worse than the previous frame's camera
            held = evaluate(t, previous, previous, mu)
            if held[2] < current:
                params, (values, valid, current) = previous, held
        still = keep0 & ~ignore[t]
        if valid.sum() >= 0.15 * keep0.size and still.any():
            fit = _huber(values[valid, :channels] - reference[valid]).mean()
            unmoved = _huber(smooth[t][still] - smooth[0][still]).mean()
            gains[t] = (unmoved + 1.0) / (fit + 1.0)
        shifts[t], zooms[t] = params[:2], 1 + params[2] / radius
    return shifts, zooms, energy, gains


# --- shape ------------------------------------------------------------------------------------


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
    rows = _overlap(3, top, bottom, height)
    cols = _overlap(3, left, right, width)
    grid = rows @ alpha @ cols.T  # mean coverage per cell
    area = float(alpha.sum())
    fill = area / ((bottom - top) * (right - left))
    centre_y = float((alpha.sum(1) * (np.arange(height) + 0.5)).sum()) / max(area, 1e-6)
    balance = (centre_y - top) / (bottom - top)
    return np.concatenate([grid.ravel(), [fill, balance]])


FEATURE_WEIGHTS = np.array([1.0] * 9 + [2.0, 3.0])
PROTOTYPE_BLURS = (0.0, 0.04, 0.08, 0.12, 0.16)
"""Blurs of the prototypes, as a Gaussian's sigma in object diameters: a generated clip may
be softer than the renders."""


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


def _shape_distances(alpha: np.ndarray) -> np.ndarray | None:
    """Distance of a coverage mask to each shape: to its nearest blur of the prototype."""
    features = shape_features(alpha)
    if features is None:
        return None
    gaps = np.sqrt((((shape_prototypes() - features) * FEATURE_WEIGHTS) ** 2).sum(-1))
    return gaps.min(axis=1)


# --- motion -----------------------------------------------------------------------------------


def _fit(t: np.ndarray, value: np.ndarray) -> tuple[float, np.ndarray]:
    """Slope over the whole clip (t in [0, 1]) of a least-squares line, and residuals."""
    if len(t) < 2 or np.ptp(t) == 0:
        return 0.0, np.zeros_like(value)
    slope, intercept = np.polyfit(t, value, 1)
    return float(slope), value - (slope * t + intercept)


def classify_motion(
    t: np.ndarray, x: np.ndarray, y: np.ndarray, area: np.ndarray
) -> tuple[str, dict[str, float]]:
    """Motion from a world track: t in [0, 1], x and y in fractions of the frame's width
    and height, area in any unit."""
    net_x, _ = _fit(t, x)
    net_y, residual_y = _fit(t, y)
    growth, _ = _fit(t, np.log(np.maximum(area, 1e-3)))
    swing = float(np.ptp(residual_y)) if len(residual_y) else 0.0
    features = {"net_x": net_x, "net_y": net_y, "swing": swing, "log_growth": growth}
    if abs(growth) > 1.0:
        return ("growing" if growth > 0 else "shrinking"), features
    if swing > 0.15 and swing > 1.5 * abs(net_y):
        return "bouncing", features
    if max(abs(net_x), abs(net_y)) > 0.2:
        if abs(net_x) >= abs(net_y):
            return ("right" if net_x > 0 else "left"), features
        return ("down" if net_y > 0 else "up"), features
    return "still", features


# --- the analyser -----------------------------------------------------------------------------


def _empty(clip: np.ndarray, background: np.ndarray, note: str, camera: tuple) -> Analysis:
    frames = clip.shape[0]
    shifts, zooms, observable, still = camera
    return Analysis(
        colour=None,
        shape=None,
        motion=None,
        camera_still=still,
        areas=(0.0,) * frames,
        track=(None,) * frames,
        world_track=(None,) * frames,
        clipped=(False,) * frames,
        camera_shift=tuple((float(a), float(b)) for a, b in shifts),
        camera_zoom=tuple(float(z) for z in zooms),
        camera_observable=observable,
        background=tuple(tuple(float(c) for c in colour) for colour in background),
        colour_distance=None,
        shape_scores=(),
        motion_features=(),
        note=note,
    )


def analyse(clip: np.ndarray, *, short_side: int | None = 32) -> Analysis:
    """Analyse uint8 frames (T, H, W, 3), best at the model's native size (short side ~32
    pixels). Frames whose short side exceeds 1.5 x `short_side` are first averaged down to
    it (`downscale`), and the evidence is in those pixels; None analyses at any size."""
    clip = np.asarray(clip)
    if clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] < 2 or clip.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames (T >= 2, H, W, 3), got {clip.dtype} {clip.shape}")
    if short_side is not None and min(clip.shape[1:3]) > 1.5 * short_side:
        clip = downscale(clip, short_side)
    frames, height, width, _ = clip.shape
    short = min(height, width)
    pixels = clip.astype(np.float32)
    background = _background_colours(pixels)

    # Object colour and coverage.
    colour_index, colour_distance = None, None
    if len(background):
        colour_index, colour_distance, candidate = _object_colour(pixels, background)
    else:
        candidate = np.ones((frames, height, width), dtype=bool)
    if colour_index is not None:
        alpha, residual = _mix(pixels, background, PALETTE[colour_index])
        alpha = np.where(residual < MIX_RESIDUAL, alpha, 0.0)
        labels, _ = ndimage.label(alpha > 0.5, structure=_FRAME_8)
    else:
        alpha = np.zeros((frames, height, width), dtype=np.float32)
        labels = np.zeros((frames, height, width), dtype=np.int32)

    regions = np.zeros((frames, height, width), dtype=np.float32)
    for t in range(frames):
        ids = np.unique(labels[t][labels[t] > 0])
        if len(ids) == 0:
            continue
        soft = [float(alpha[t][labels[t] == i].sum()) for i in ids]
        chosen = labels[t] == ids[int(np.argmax(soft))]
        grown = ndimage.binary_dilation(chosen, structure=np.ones((3, 3), dtype=bool))
        others = (labels[t] > 0) & ~chosen
        regions[t] = np.where(grown & ~others, alpha[t], 0.0)
    areas = regions.sum(axis=(1, 2))
    found = areas >= MIN_AREA

    # Camera, with the object (and anything else unlike the background) masked out.
    ignore = ndimage.binary_dilation(
        (regions > 0.02) | candidate, structure=np.ones((1, 5, 5), dtype=bool)
    )
    smooth = ndimage.gaussian_filter(pixels, sigma=(0, 1.0, 1.0, 0))
    shifts, zooms, energy, gains = _register(smooth, ignore)
    observable = energy >= TEXTURE_ENERGY
    if gains.max() < CAMERA_GAIN:  # no better than a still camera: noise, not motion
        shifts, zooms = np.zeros_like(shifts), np.ones_like(zooms)
    travel = np.abs(shifts).max() + np.abs(zooms - 1).max() * max(height, width) / 2
    camera_still = bool(travel < STILL_CAMERA * short)
    camera = (shifts, zooms, observable, camera_still)

    if colour_index is None:
        return _empty(pixels, background, "no object colour found", camera)
    if found.sum() < max(2, frames // 2):
        return _empty(pixels, background, "object found in too few frames", camera)

    ys, xs = np.mgrid[0:height, 0:width]
    track: list[tuple[float, float] | None] = []
    world: list[tuple[float, float] | None] = []
    clipped: list[bool] = []
    cx, cy = (width - 1) / 2, (height - 1) / 2
    for t in range(frames):
        region = regions[t]
        edge = np.concatenate([region[0], region[-1], region[:, 0], region[:, -1]])
        clipped.append(bool(found[t] and edge.max() > 0.1))
        if not found[t]:
            track.append(None)
            world.append(None)
            continue
        px = float((region * xs).sum() / areas[t])
        py = float((region * ys).sum() / areas[t])
        track.append((px, py))
        world.append(
            (
                cx + (px - cx - shifts[t, 0]) / zooms[t],
                cy + (py - cy - shifts[t, 1]) / zooms[t],
            )
        )
    clipped_arr = np.array(clipped)

    # A coherent object: it neither jumps about the frame nor swells and shrinks at random
    # from one frame to the next.
    points = np.array([p for p in track if p is not None])
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    swells = np.abs(np.diff(np.log(areas[found])))
    if len(steps) and (
        float(np.median(steps)) > 0.3 * np.hypot(height, width) or float(np.median(swells)) > 0.7
    ):
        return _empty(pixels, background, "no coherent object track", camera)

    # Motion, from frames where the whole object is seen (all found frames if too few).
    use = found & ~clipped_arr
    if use.sum() < 3:
        use = found
    t_norm = np.arange(frames) / (frames - 1)
    world_arr = np.array([w if w is not None else (np.nan, np.nan) for w in world])
    motion, motion_features = classify_motion(
        t_norm[use],
        world_arr[use, 0] / width,
        world_arr[use, 1] / height,
        areas[use] / zooms[use] ** 2,
    )

    # Shape, from the largest whole views.
    inside = np.nonzero(found & ~clipped_arr)[0]
    if len(inside) == 0:
        inside = np.nonzero(found)[0]
    largest = inside[np.argsort(-areas[inside], kind="stable")[:3]]
    scores = np.zeros(len(SHAPES))
    for t in largest:
        distances = _shape_distances(regions[t])
        if distances is not None:
            scores += distances * areas[t]
    shape = SHAPES[int(scores.argmin())] if scores.any() else None
    scores /= max(float(areas[largest].sum()), 1e-6)

    return Analysis(
        colour=PALETTE_NAMES[colour_index],
        shape=shape,
        motion=motion,
        camera_still=camera_still,
        areas=tuple(float(a) if f else 0.0 for a, f in zip(areas, found, strict=True)),
        track=tuple(track),
        world_track=tuple(world),
        clipped=tuple(clipped),
        camera_shift=tuple((float(a), float(b)) for a, b in shifts),
        camera_zoom=tuple(float(z) for z in zooms),
        camera_observable=observable,
        background=tuple(tuple(float(c) for c in colour) for colour in background),
        colour_distance=colour_distance,
        shape_scores=tuple((s, float(v)) for s, v in zip(SHAPES, scores, strict=True)),
        motion_features=tuple((k, float(v)) for k, v in motion_features.items()),
    )


# --- videos and the command line --------------------------------------------------------------


def analyse_video(path: str | Path, short_side: int = 32, frames: int = 16) -> Analysis:
    """Decode an MP4 (PyAV), scale it down to `short_side`, keep ~`frames` evenly spaced
    frames and analyse them."""
    return analyse(read_video(path, short_side, frames))


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


SIZES = ((56, 32), (32, 32), (32, 56), (72, 32))


def evaluate(n: int, seed: int = 0, frames: int = 16, verbose: bool = False) -> dict:
    """Analyse `n` random ground-truth scenes (sizes in turn): accuracy per attribute for
    the fixed camera and for pan/zoom (where `camera_moves` is whether a pan or zoom over
    a textured background was seen), the misses, and the seconds per clip."""
    rng = np.random.default_rng(seed)
    hits: dict[str, dict[str, list[bool]]] = {"fixed": {}, "moving": {}}
    misses: dict[str, Counter] = {}
    seconds = 0.0
    for i in range(n):
        scene = random_scene(rng)
        width, height = SIZES[i % len(SIZES)]
        clip = render_scene(scene, width, height, frames)
        started = time.perf_counter()
        result = analyse(clip)
        seconds += time.perf_counter() - started
        group = "fixed" if scene.camera == "fixed" else "moving"
        verdict = check(result, scene)
        if group == "moving" and scene.background != "plain":
            verdict["camera_moves"] = not result.camera_still  # texture shows the camera
        for key, ok in verdict.items():
            hits[group].setdefault(key, []).append(ok)
            if not ok:
                if key.startswith("camera"):
                    truth, got = key == "camera_still", result.camera_still
                else:
                    truth, got = getattr(scene, key), getattr(result, key)
                misses.setdefault(key, Counter())[(group, truth, got)] += 1
                if verbose:
                    print(f"miss {key}: {truth} -> {got}  {scene} {width}x{height}")
    accuracy = {
        group: {key: float(np.mean(v)) for key, v in values.items()}
        for group, values in hits.items()
    }
    return {"accuracy": accuracy, "misses": misses, "seconds_per_clip": seconds / max(n, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", help="an MP4 to analyse")
    parser.add_argument("--check", type=int, metavar="N", help="analyse N random renders")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--short-side", type=int, default=32)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    if args.check:
        report = evaluate(args.check, args.seed, args.frames, args.verbose)
        for group, scores in report["accuracy"].items():
            line = "  ".join(f"{key} {value:.3f}" for key, value in scores.items())
            print(f"{group:7s} {line}")
        for key, counter in report["misses"].items():
            for (group, truth, got), count in counter.most_common():
                print(f"  {key:12s} {group:7s} {truth} -> {got}: {count}")
        print(f"{report['seconds_per_clip'] * 1000:.1f} ms per clip")
    elif args.video:
        result = analyse_video(args.video, args.short_side, args.frames)
        print(f"colour {result.colour}  shape {result.shape}  motion {result.motion}")
        print(f"camera_still {result.camera_still}  {result.note}")
    else:
        parser.error("give a video or --check N")


if __name__ == "__main__":
    main()
