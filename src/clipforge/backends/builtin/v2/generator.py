"""The generator: one object over a background, drawn frame by frame from attributes.

Chosen by measurement (training/README.md, "Why this generator"): a space-time denoiser at the
old native size (56 x 32) needs 121 native frames for 24 fps without cross-fades, and even a
0.15M-parameter factorised net then takes ~60 s for 24 guided steps on 2 cores (joint temporal
attention ~130 s), against a 5 s budget; and a learnt shape field was still a blur after the
first hundreds of steps this CPU affords. So what a clip is made of is explicit and only
where it goes is learnt: a track network gives the object's centre and size and the camera's
pan and zoom at any time t (every output frame is native: no cross-fades); the object is its
class's shape (one closed shape per frame with a one-pixel edge: no trail, no fringe), the
background its class's pattern in world coordinates (the camera moves over it). Colours are
values, passed straight through: any named colour renders as itself. Rendering is
differentiable in the track, and training fits the track through this same path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from clipforge.backends.builtin.v2.heads import CLASSES

SHAPES = CLASSES["shape"][:4]
MOTIONS = CLASSES["motion"]
BACKGROUNDS = CLASSES["background"][:4]
CAMERAS = CLASSES["camera"][:4]
LATENT = 3
"""Per-clip variation (start offset x, y and size), drawn from the seed at sampling and set
to the scene's own values in training, each in [-1, 1]."""


@dataclass(frozen=True)
class Condition:
    """What the generator is told, as tensors for a batch: one-hot classes (B, n) and colour
    values in [0, 1] (B, 3)."""

    shape: torch.Tensor
    motion: torch.Tensor
    background: torch.Tensor
    camera: torch.Tensor
    colour: torch.Tensor
    tone: torch.Tensor

    @classmethod
    def of(cls, rows: list[dict], device: torch.device | str = "cpu") -> Condition:
        """From dicts with shape, motion, background, camera names and colour, tone RGB
        triples (0-255); "unspecified" background is plain, camera fixed."""

        def one_hot(key: str, names: tuple[str, ...], default: str) -> torch.Tensor:
            picks = [names.index(r[key]) if r[key] in names else names.index(default) for r in rows]
            return F.one_hot(torch.tensor(picks), len(names)).float().to(device)

        def rgb(key: str) -> torch.Tensor:
            return torch.tensor([r[key] for r in rows], dtype=torch.float32, device=device) / 255

        return cls(
            one_hot("shape", SHAPES, "circle"),
            one_hot("motion", MOTIONS, "still"),
            one_hot("background", BACKGROUNDS, "plain"),
            one_hot("camera", CAMERAS, "fixed"),
            rgb("colour"),
            rgb("tone"),
        )


def fourier(x: torch.Tensor, bands: int) -> torch.Tensor:
    """x (..., k) -> (..., k * 2 * bands) sines and cosines at octave frequencies."""
    freqs = math.pi * 2.0 ** torch.arange(bands, device=x.device, dtype=x.dtype)
    angles = x.unsqueeze(-1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(-2)


def mlp(inputs: int, outputs: int, hidden: int = 128) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden),
        nn.SiLU(),
        nn.Linear(hidden, hidden),
        nn.SiLU(),
        nn.Linear(hidden, outputs),
    )


class LayeredGenerator(nn.Module):
    """The learnt part: the track. The object and the background are drawn explicitly from
    their classes (`shape_coverage`, `pattern`), so every frame has one sharp object whatever
    the training did."""

    def __init__(self) -> None:
        super().__init__()
        self.track = mlp(len(MOTIONS) + len(CAMERAS) + LATENT + 1 + 2 * 4, 5)

    def tracks(self, cond: Condition, latent: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """(B, T, 5): object x, y (fractions of the frame, world), size (fraction of the short
        side), camera pan offset (short sides) and zoom, at times t (T,) in [0, 1]."""
        b, n = latent.shape[0], t.shape[0]
        clip = torch.cat([cond.motion, cond.camera, latent], dim=-1)
        times = torch.cat([t[:, None], fourier(t[:, None], 4)], dim=-1)
        rows = torch.cat([clip[:, None].expand(b, n, -1), times[None].expand(b, n, -1)], -1)
        raw = self.track(rows)
        base = torch.tensor([0.5, 0.5, 0.28, 0.0, 1.0], device=raw.device)
        track = base + raw
        # A fixed camera is exactly still (pan 0, zoom 1), not as still as the net learnt.
        moving = 1 - cond.camera[:, None, CAMERAS.index("fixed"), None]  # (B, 1, 1)
        still = torch.tensor([0.0, 1.0], device=raw.device)
        return torch.cat([track[..., :3], still + (track[..., 3:] - still) * moving], dim=-1)

    def forward(
        self, cond: Condition, latent: torch.Tensor, frames: int, width: int, height: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Clips (B, T, 3, H, W) in [0, 1] and the object's coverage (B, T, 1, H, W)."""
        t = torch.linspace(0.0, 1.0, frames, device=latent.device)
        return render(cond, self.tracks(cond, latent, t), width, height)


def render(
    cond: Condition, track: torch.Tensor, width: int, height: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clips (B, T, 3, H, W) in [0, 1] and the object's coverage (B, T, 1, H, W) for the
    frames of `track` (B, T, 5). Differentiable in the track: training fits it through the
    pixels this draws."""
    px, py = pixel_centres(width, height, track.device)
    cx, cy, radius = on_screen(track, width, height)
    dx = ((px - cx[..., None]) / radius[..., None])[:, :, None, :]  # (B, T, 1, W)
    dy = ((py - cy[..., None]) / radius[..., None])[:, :, :, None]  # (B, T, H, 1)
    distance = shape_distance(cond.shape, dx, dy)  # (B, T, H, W), in object radii
    # A one-pixel soft edge at any size: sharp, and never a fringe.
    coverage = (0.5 - distance * radius[..., None, None]).clamp(0, 1)[:, :, None]
    background = backgrounds(cond, track, width, height)
    colour = cond.colour[:, None, :, None, None]
    return background + (colour - background) * coverage, coverage


def backgrounds(cond: Condition, track: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """(B, T, 3, H, W) in [0, 1]: the background each frame shows; T = 1 when the camera is
    still over `track` (one background serves every frame)."""
    camera = track[..., 3:]
    if torch.equal(camera, camera[:, :1].expand_as(camera)):
        track = track[:, :1]
    wx, wy = world(track, width, height)
    weight = pattern(cond.background, wx[:, :, None, :], wy[:, :, :, None])[:, :, None]
    tone = cond.tone[:, None, :, None, None]
    shade = texture_shade(cond.tone)[:, None, :, None, None]
    return tone + (shade - tone) * weight


@torch.inference_mode()
def draw(cond: Condition, track: torch.Tensor, width: int, height: int) -> np.ndarray:
    """uint8 frames (T, H, W, 3) of one clip (B = 1): what `render` draws, with the shape
    measured only in each frame's box around the object (every shape lies within one
    radius of its centre, so nothing outside changes) and pasted over the background."""
    base = (backgrounds(cond, track, width, height)[0] * 255).permute(0, 2, 3, 1).numpy()
    plate = np.rint(base).clip(0, 255).astype(np.uint8)
    cx, cy, radius = (v[0] for v in on_screen(track, width, height))
    side = 2 * math.ceil(float(radius.max())) + 4
    x0, y0 = torch.floor(cx - side / 2).long(), torch.floor(cy - side / 2).long()
    steps = torch.arange(side) + 0.5
    dx = ((x0[:, None] + steps - cx[:, None]) / radius[:, None])[None, :, None, :]
    dy = ((y0[:, None] + steps - cy[:, None]) / radius[:, None])[None, :, :, None]
    distance = shape_distance(cond.shape, dx, dy)[0]  # (T, side, side)
    coverage = (0.5 - distance * radius[:, None, None]).clamp(0, 1)[..., None].numpy()
    colour = (cond.colour[0] * 255).numpy()
    out = np.empty((track.shape[1], height, width, 3), dtype=np.uint8)
    for t, (left, top) in enumerate(zip(x0.tolist(), y0.tolist(), strict=True)):
        still = 0 if len(plate) == 1 else t
        out[t] = plate[still]
        xa, ya = max(0, left), max(0, top)
        xb, yb = min(width, left + side), min(height, top + side)
        if xa < xb and ya < yb:
            under = base[still, ya:yb, xa:xb]
            cover = coverage[t, ya - top : yb - top, xa - left : xb - left]
            out[t, ya:yb, xa:xb] = np.rint(under + (colour - under) * cover).clip(0, 255)
    return out


def shape_distance(shape: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """(B, T, H, W) signed distance (object radii; < 0 inside) of each clip's shape class
    (one-hot `shape`, (B, 4)) at offsets dx (B, T, 1, W), dy (B, T, H, 1) from its centre:
    the shapes of `training/scenes.py`, all inside radius 1."""
    return by_class(shape, _SHAPES, dx, dy)


def _circle(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    return (dx * dx + dy * dy).sqrt() - 1.0


def _square(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    return torch.maximum(dx.abs(), dy.abs()) - 0.85


def _triangle(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Pointing up: inside all three half-planes."""
    sides = torch.maximum(-0.9 * dx - 0.5 * dy - 0.45, 0.9 * dx - 0.5 * dy - 0.45)
    return torch.maximum(dy - 0.8, sides)


def _cross(dx: torch.Tensor, dy: torch.Tensor, arm: float = 0.33) -> torch.Tensor:
    ax, ay = dx.abs(), dy.abs()
    return torch.minimum(torch.maximum(ax - 1.0, ay - arm), torch.maximum(ax - arm, ay - 1.0))


_SHAPES = (_circle, _square, _triangle, _cross)

PERIOD = 0.25
"""The background pattern's period, in short sides (as `training/scenes.py` draws it)."""


def pattern(background: torch.Tensor, wx: torch.Tensor, wy: torch.Tensor) -> torch.Tensor:
    """(B, T, H, W) in {0, 1}: where the pattern's second colour is, at world coordinates
    wx (B, T, 1, W), wy (B, T, H, 1), for the one-hot `background` (B, 4)."""
    return by_class(background, _PATTERNS, wx, wy)


def _plain(wx: torch.Tensor, wy: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(wx * wy)


def _stripes(wx: torch.Tensor, wy: torch.Tensor) -> torch.Tensor:
    return (torch.floor(wx / PERIOD * 2) % 2 == 0).float().expand_as(wx * wy)


def _checker(wx: torch.Tensor, wy: torch.Tensor) -> torch.Tensor:
    return ((torch.floor(wx / PERIOD * 2) + torch.floor(wy / PERIOD * 2)) % 2 == 0).float()


def _dots(wx: torch.Tensor, wy: torch.Tensor) -> torch.Tensor:
    fx, fy = (wx / PERIOD) % 1.0 - 0.5, (wy / PERIOD) % 1.0 - 0.5
    return (fx * fx + fy * fy < 0.06).float()


_PATTERNS = (_plain, _stripes, _checker, _dots)


def by_class(
    one_hot: torch.Tensor,
    draw: tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], ...],
    u: torch.Tensor,
    v: torch.Tensor,
) -> torch.Tensor:
    """Each clip's class's `draw(u, v)` (B, T, H, W): only the classes present are drawn."""
    classes = one_hot.argmax(dim=-1)
    height, width = v.shape[2], u.shape[3]
    out = u.new_empty(u.shape[0], u.shape[1], height, width)
    for index in classes.unique().tolist():
        rows = classes == index
        out[rows] = draw[index](u[rows], v[rows])
    return out


def texture_shade(tone: torch.Tensor) -> torch.Tensor:
    """(B, 3) the pattern's second colour: darker over a light tone, lighter over a dark one."""
    light = tone.mean(dim=-1, keepdim=True) > 0.5
    return torch.where(light, tone * 0.75, (tone * 1.6 + 25 / 255).clamp(max=1.0))


def pixel_centres(
    width: int, height: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    px = torch.arange(width, device=device, dtype=torch.float32) + 0.5
    return px, torch.arange(height, device=device, dtype=torch.float32) + 0.5


def on_screen(
    track: torch.Tensor, width: int, height: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The object's centre x, y and radius in pixels, each (B, T), as the camera shows it."""
    x, y, size, offset, zoom = track.unbind(-1)
    short = min(width, height)
    cx = (0.5 + (x - 0.5) * zoom) * width - offset * short
    cy = (0.5 + (y - 0.5) * zoom) * height
    return cx, cy, (size * short * zoom / 2).clamp(min=0.5)


def world(track: torch.Tensor, width: int, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    """World coordinates (short sides) seen by each pixel column (B, T, W) and row (B, T, H)."""
    _, _, _, offset, zoom = track.unbind(-1)
    short = min(width, height)
    px, py = pixel_centres(width, height, track.device)
    wx = ((px - width / 2) / zoom[..., None] + width / 2) / short + offset[..., None]
    return wx, ((py - height / 2) / zoom[..., None] + height / 2) / short


def sample_separable(
    image: torch.Tensor,
    gx: torch.Tensor,
    gy: torch.Tensor,
    align_corners: bool,
    padding: str = "zeros",
) -> torch.Tensor:
    """Each clip's (B, C, h, w) image at separable coordinates gx (B, T, W), gy (B, T, H) in
    [-1, 1] (outside: 0) -> (B, T, C, H, W)."""
    b, n, width = gx.shape
    height = gy.shape[-1]
    grid = torch.stack(
        [
            gx[:, :, None, :].expand(b, n, height, width),
            gy[:, :, :, None].expand(b, n, height, width),
        ],
        dim=-1,
    )
    images = image[:, None].expand(b, n, -1, -1, -1).flatten(0, 1)
    sampled = F.grid_sample(
        images, grid.flatten(0, 1), align_corners=align_corners, padding_mode=padding
    )
    return sampled.view(b, n, -1, height, width)
