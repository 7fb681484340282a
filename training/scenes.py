"""Procedural captioned clips: one object with a colour, a shape and a motion, over a plain or
textured background, seen by a fixed, panning or zooming camera.

A `Scene` is the ground truth; `render_scene` draws it as uint8 frames (T, H, W, 3) at any
size, so every aspect ratio of the API is covered; `captions.py` writes it as text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 190, 50),
    "blue": (40, 70, 230),
    "yellow": (240, 220, 30),
    "purple": (150, 50, 200),
    "orange": (250, 140, 20),
    "white": (245, 245, 245),
    "cyan": (30, 210, 220),
}
SHAPES = ("circle", "square", "triangle", "cross")
MOTIONS = ("left", "right", "up", "down", "still", "growing", "shrinking", "bouncing")
BACKGROUNDS = ("plain", "stripes", "checker", "dots")
CAMERAS = ("fixed", "pan", "zoom")
BACKGROUND_TONES: dict[str, tuple[int, int, int]] = {
    "black": (15, 15, 20),
    "grey": (110, 110, 115),
    "navy": (20, 25, 70),
    "brown": (90, 60, 35),
    "beige": (215, 200, 170),
}


@dataclass(frozen=True)
class Scene:
    colour: str
    shape: str
    motion: str
    background: str
    tone: str
    camera: str
    pan_direction: str = "left"
    """Which way the view moves when camera == "pan"."""
    size: float = 0.28
    """Object diameter as a fraction of the short side."""
    start: tuple[float, float] = (0.5, 0.5)
    """Object centre at t=0, in fractions of (width, height)."""


def rgb(name: str, table: dict[str, tuple[int, int, int]]) -> tuple[int, int, int]:
    """A palette name's value, or a "#rrggbb" value as it is (the v2 generator is trained on
    any colour, not a palette)."""
    if name.startswith("#"):
        return (int(name[1:3], 16), int(name[3:5], 16), int(name[5:7], 16))
    return table[name]


def _held_out_triples() -> frozenset[tuple[str, str, str]]:
    """One (colour, shape, motion) combination in eight never appears in training: the
    evaluation asks for these, so that it measures composition, not memory."""
    triples = [(c, s, m) for c in COLOURS for s in SHAPES for m in MOTIONS]
    picks = np.random.default_rng(20261125).permutation(len(triples))[: len(triples) // 8]
    return frozenset(triples[i] for i in picks)


HELD_OUT = _held_out_triples()


def random_scene(rng: np.random.Generator, *, held_out: bool = False) -> Scene:
    """A scene whose object stays on screen for the whole motion; `held_out` picks from the
    evaluation combinations, otherwise they are never drawn."""
    while True:
        colour = str(rng.choice(list(COLOURS)))
        shape = str(rng.choice(SHAPES))
        motion = str(rng.choice(MOTIONS))
        if ((colour, shape, motion) in HELD_OUT) == held_out:
            break
    tones = [t for t in BACKGROUND_TONES if not _clashes(colour, t)]
    background = str(rng.choice(BACKGROUNDS))
    for _ in range(20):
        scene = Scene(
            colour=colour,
            shape=shape,
            motion=motion,
            background=background,
            tone=str(rng.choice(tones)),
            # Camera motion is visible only over a texture; over a plain background a pan
            # would only make a still object look as if it moved.
            camera="fixed"
            if background == "plain"
            else str(rng.choice(CAMERAS, p=[0.5, 0.3, 0.2])),
            pan_direction=str(rng.choice(["left", "right"])),
            size=float(rng.uniform(0.22, 0.34)),
            start=_start(motion, rng),
        )
        if _stays_on_screen(scene):
            return scene
    return replace(scene, camera="fixed")


def _stays_on_screen(scene: Scene) -> bool:
    """The object's centre keeps half its size away from every edge (square frame, the
    tightest case), whatever the camera does."""
    t = np.linspace(0.0, 1.0, 16, dtype=np.float32)
    xs, ys, sizes = object_track(scene, t)
    for i, moment in enumerate(t):
        offset, zoom = _camera(scene, float(moment))
        x = 0.5 + (xs[i] - 0.5) * zoom - offset
        y = 0.5 + (ys[i] - 0.5) * zoom
        margin = sizes[i] * zoom / 2
        if not (margin <= x <= 1 - margin and margin <= y <= 1 - margin):
            return False
    return True


def _clashes(colour: str, tone: str) -> bool:
    """Too close to the background tone or to its texture shade to be told apart."""
    a = np.array(COLOURS[colour], dtype=float)
    b = np.array(BACKGROUND_TONES[tone], dtype=float)
    return bool(min(np.abs(a - b).sum(), np.abs(a - _texture_shade(b)).sum()) < 180)


def _texture_shade(tone: np.ndarray) -> np.ndarray:
    """The second colour of stripes, checks and dots drawn over `tone`."""
    if tone.mean() > 128:
        return np.clip(tone * 0.75, 0, 255)
    return np.clip(tone * 1.6 + 25, 0, 255)


START_POINTS = {
    "left": (0.78, 0.5),
    "right": (0.22, 0.5),
    "up": (0.5, 0.75),
    "down": (0.5, 0.25),
    "bouncing": (0.5, 0.7),
}
"""Where each motion starts, before a jitter of up to START_JITTER each way (else the centre)."""
START_JITTER = 0.08


def _start(motion: str, rng: np.random.Generator) -> tuple[float, float]:
    jitter = lambda: float(rng.uniform(-START_JITTER, START_JITTER))  # noqa: E731
    x, y = START_POINTS.get(motion, (0.5, 0.5))
    return (x + jitter(), y + jitter())


def object_track(scene: Scene, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Object centre (x, y as fractions) and size over normalised time t in [0, 1]."""
    x0, y0 = scene.start
    x = np.full_like(t, x0)
    y = np.full_like(t, y0)
    size = np.full_like(t, scene.size)
    travel = 0.56
    if scene.motion == "left":
        x = x0 - travel * t
    elif scene.motion == "right":
        x = x0 + travel * t
    elif scene.motion == "up":
        y = y0 - 0.5 * t
    elif scene.motion == "down":
        y = y0 + 0.5 * t
    elif scene.motion == "growing":
        size = scene.size * (0.55 + 1.0 * t)
    elif scene.motion == "shrinking":
        size = scene.size * (1.55 - 1.0 * t)
    elif scene.motion == "bouncing":
        y = y0 - 0.45 * np.abs(np.sin(np.pi * 2.0 * t))
    return x, y, size


def render_scene(scene: Scene, width: int, height: int, frames: int) -> np.ndarray:
    """uint8 frames (frames, height, width, 3)."""
    return render_scene_with_mask(scene, width, height, frames)[0]


def render_scene_with_mask(
    scene: Scene, width: int, height: int, frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 frames (frames, height, width, 3) and the object's coverage (frames, height,
    width) as uint8 0-255: training weighs the object's pixels above the background's."""
    t = np.linspace(0.0, 1.0, frames, dtype=np.float32)
    xs, ys, sizes = object_track(scene, t)
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    mask = np.empty((frames, height, width), dtype=np.uint8)
    short = min(width, height)
    for i in range(frames):
        offset, zoom = _camera(scene, float(t[i]))
        canvas = _background(scene, width, height, offset, zoom)
        cx = (0.5 + (xs[i] - 0.5) * zoom) * width - offset * short * (scene.camera == "pan")
        cy = (0.5 + (ys[i] - 0.5) * zoom) * height
        coverage = _draw(canvas, scene, cx, cy, sizes[i] * short * zoom)
        out[i] = canvas
        mask[i] = np.round(coverage * 255)
    return out, mask


def _camera(scene: Scene, t: float) -> tuple[float, float]:
    """(horizontal pan offset in short sides, zoom factor) at time t."""
    if scene.camera == "pan":
        sign = 1.0 if scene.pan_direction == "right" else -1.0
        return sign * 0.35 * t, 1.0
    if scene.camera == "zoom":
        return 0.0, 1.0 + 0.35 * t
    return 0.0, 1.0


def _background(scene: Scene, width: int, height: int, offset: float, zoom: float) -> np.ndarray:
    short = min(width, height)
    tone = np.array(rgb(scene.tone, BACKGROUND_TONES), dtype=np.float32)
    canvas = np.empty((height, width, 3), dtype=np.float32)
    canvas[:] = tone
    if scene.background == "plain":
        return canvas
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    # World coordinates in short sides: the camera pans and zooms over a fixed texture.
    wx = ((xs - width / 2) / zoom + width / 2) / short + offset
    wy = ((ys - height / 2) / zoom + height / 2) / short
    period = 0.25
    if scene.background == "stripes":
        mask = np.floor(wx / period * 2) % 2 == 0
    elif scene.background == "checker":
        mask = (np.floor(wx / period * 2) + np.floor(wy / period * 2)) % 2 == 0
    else:
        fx, fy = (wx / period) % 1.0 - 0.5, (wy / period) % 1.0 - 0.5
        mask = fx * fx + fy * fy < 0.06
    canvas[mask] = _texture_shade(tone)
    return canvas


def _draw(canvas: np.ndarray, scene: Scene, cx: float, cy: float, diameter: float) -> np.ndarray:
    """Draw the object in place; return its coverage."""
    height, width = canvas.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = (xs + 0.5 - cx) / (diameter / 2), (ys + 0.5 - cy) / (diameter / 2)
    coverage = _shape_coverage(scene.shape, dx, dy)
    colour = np.array(rgb(scene.colour, COLOURS), dtype=np.float32)
    canvas[:] = canvas * (1 - coverage[..., None]) + colour * coverage[..., None]
    return coverage


def _shape_coverage(shape: str, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Soft (anti-aliased) coverage in [0, 1] of a unit shape at offsets (dx, dy)."""
    if shape == "circle":
        distance = np.sqrt(dx * dx + dy * dy) - 1.0
    elif shape == "square":
        distance = np.maximum(np.abs(dx), np.abs(dy)) - 0.85
    elif shape == "triangle":
        # Upward triangle: inside all three half-planes.
        edge = np.maximum(
            dy - 0.8, np.maximum(-0.9 * dx - 0.5 * dy - 0.45, 0.9 * dx - 0.5 * dy - 0.45)
        )
        distance = edge
    else:  # cross
        arm = 0.33
        bar_h = np.maximum(np.abs(dx) - 1.0, np.abs(dy) - arm)
        bar_v = np.maximum(np.abs(dx) - arm, np.abs(dy) - 1.0)
        distance = np.minimum(bar_h, bar_v)
    return np.clip(0.5 - distance * 6.0, 0.0, 1.0).astype(np.float32)
