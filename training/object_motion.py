"""The object's path and how it moves: stage 5 of the analyser (`analyse.py`).

The object's centroid and area are mapped back through the camera into the first frame's
coordinates, then classified from the net displacement (a line fit), the vertical swing
about that line (bouncing) and the growth of the area (a log-linear fit). Frames where the
object touches the frame border are left out of these fits.

Coordinates are pixels (x right, y down) with pixel centres on integers.
"""

from __future__ import annotations

import numpy as np

from training.camera_registration import Camera

Point = tuple[float, float]


def object_track(
    regions: np.ndarray, areas: np.ndarray, found: np.ndarray, camera: Camera
) -> tuple[list[Point | None], list[Point | None], list[bool]]:
    """Per frame, from the object's coverage `regions` (T, H, W) and `areas` (T,): its
    centroid on screen and in world (first-frame) coordinates (None where not `found`), and
    whether it touches the frame border."""
    frames, height, width = regions.shape
    shifts, zooms = camera.shifts, camera.zooms
    ys, xs = np.mgrid[0:height, 0:width]
    track: list[Point | None] = []
    world: list[Point | None] = []
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
    return track, world, clipped


def is_coherent(
    track: list[Point | None], areas: np.ndarray, found: np.ndarray, height: int, width: int
) -> bool:
    """Whether the track is one coherent object: it neither jumps about the frame nor
    swells and shrinks at random from one frame to the next."""
    points = np.array([p for p in track if p is not None])
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    swells = np.abs(np.diff(np.log(areas[found])))
    if not len(steps):
        return True
    jumps = float(np.median(steps)) > 0.3 * np.hypot(height, width)
    swelling = float(np.median(swells)) > 0.7
    return not (jumps or swelling)


def track_motion(
    world: list[Point | None],
    areas: np.ndarray,
    found: np.ndarray,
    clipped: np.ndarray,
    camera: Camera,
    height: int,
    width: int,
) -> tuple[str, dict[str, float]]:
    """The motion of a world track, from the frames where the whole object is seen (all
    found frames if fewer than three), with its area taken back through the camera's zoom."""
    use = found & ~clipped
    if use.sum() < 3:
        use = found
    t_norm = np.arange(len(world)) / (len(world) - 1)
    world_arr = np.array([w if w is not None else (np.nan, np.nan) for w in world])
    return classify_motion(
        t_norm[use],
        world_arr[use, 0] / width,
        world_arr[use, 1] / height,
        areas[use] / camera.zooms[use] ** 2,
    )


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


def _fit(t: np.ndarray, value: np.ndarray) -> tuple[float, np.ndarray]:
    """Slope over the whole clip (t in [0, 1]) of a least-squares line, and residuals."""
    if len(t) < 2 or np.ptp(t) == 0:
        return 0.0, np.zeros_like(value)
    slope, intercept = np.polyfit(t, value, 1)
    return float(slope), value - (slope * t + intercept)
