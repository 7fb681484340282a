"""The layered generator: one object over a background, drawn frame by frame from attributes.

Chosen by measurement (training/README.md, "v2 design"): a space-time denoiser at the old
native size (56 x 32) needs 121 native frames for 24 fps without cross-fades, and even a
0.15M-parameter factorised net then takes ~60 s for 24 guided steps on 2 cores (joint temporal
attention ~130 s), against a 5 s budget. This generator predicts what a clip is made of and
renders it: a track network gives the object's centre and size and the camera's pan and zoom
at any time t (so every output frame is native: no cross-fades); a shape field gives the
object's coverage in its own coordinates (one sprite, so one compact object per frame by
construction: no trails); a texture field gives the background's pattern in world coordinates
(the camera moves over it). Colours are values, passed straight through: any named colour
renders as itself. Rendering is differentiable, and training uses this same path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from clipforge.backends.builtin.v2.heads import CLASSES

SHAPES = CLASSES["shape"][:4]
MOTIONS = CLASSES["motion"]
BACKGROUNDS = CLASSES["background"][:4]
CAMERAS = CLASSES["camera"][:4]
EXTENT = 1.25
"""The sprite covers [-EXTENT, EXTENT] object radii: coverage outside is zero, so the object
stays compact whatever the shape field learns."""
SPRITE = 64
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
    def __init__(self) -> None:
        super().__init__()
        self.track = mlp(len(MOTIONS) + len(CAMERAS) + LATENT + 1 + 2 * 4, 5)
        self.shape_field = mlp(len(SHAPES) + 2 + 2 * 2 * 4, 1)
        self.texture_field = mlp(len(BACKGROUNDS) + 2 * 2 * 6, 1)
        self.shade = mlp(3, 3, hidden=32)

    def tracks(self, cond: Condition, latent: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """(B, T, 5): object x, y (fractions of the frame, world), size (fraction of the short
        side), camera pan offset (short sides) and zoom, at times t (T,) in [0, 1]."""
        b, n = latent.shape[0], t.shape[0]
        clip = torch.cat([cond.motion, cond.camera, latent], dim=-1)
        times = torch.cat([t[:, None], fourier(t[:, None], 4)], dim=-1)
        rows = torch.cat([clip[:, None].expand(b, n, -1), times[None].expand(b, n, -1)], -1)
        raw = self.track(rows)
        base = torch.tensor([0.5, 0.5, 0.28, 0.0, 1.0], device=raw.device)
        return base + raw

    def sprite(self, cond: Condition, size: int = SPRITE) -> torch.Tensor:
        """(B, 1, size, size) object coverage in [0, 1] over [-EXTENT, EXTENT] radii."""
        axis = torch.linspace(-EXTENT, EXTENT, size, device=cond.shape.device)
        grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), dim=-1).view(-1, 2)
        feats = torch.cat([grid, fourier(grid / EXTENT, 4)], dim=-1)
        b = cond.shape.shape[0]
        rows = torch.cat(
            [cond.shape[:, None].expand(b, size * size, -1), feats[None].expand(b, -1, -1)], -1
        )
        coverage = torch.sigmoid(self.shape_field(rows)).view(b, 1, size, size)
        radius = grid.norm(dim=-1).view(1, 1, size, size)
        return coverage * (radius < EXTENT).float()

    def texture(self, cond: Condition, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """(B, 1, len(ys), len(xs)) pattern weight in [0, 1] at world coordinates."""
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)
        feats = fourier(grid.reshape(-1, 2) / 4.0, 6)
        b = cond.background.shape[0]
        rows = torch.cat(
            [cond.background[:, None].expand(b, feats.shape[0], -1), feats[None].expand(b, -1, -1)],
            -1,
        )
        return torch.sigmoid(self.texture_field(rows)).view(b, 1, len(ys), len(xs))

    def forward(
        self, cond: Condition, latent: torch.Tensor, frames: int, width: int, height: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Clips (B, T, 3, H, W) in [0, 1] and the object's coverage (B, T, 1, H, W)."""
        t = torch.linspace(0.0, 1.0, frames, device=latent.device)
        track = self.tracks(cond, latent, t)
        return render(self, cond, track, width, height)


@dataclass(frozen=True)
class Layers:
    """What a clip is drawn from, computed once per clip: the object's sprite (B, 1, S, S),
    the background pattern on a world canvas (B, 1, Hc, Wc) spanning x in [left, right] and
    y in [-MARGIN, height/short + MARGIN] short sides, and the two background colours."""

    sprite: torch.Tensor
    canvas: torch.Tensor
    left: float
    right: float
    tone: torch.Tensor
    shade: torch.Tensor


MARGIN = 0.1


def layers(
    model: LayeredGenerator, cond: Condition, track: torch.Tensor, width: int, height: int
) -> Layers:
    short = min(width, height)
    offset = track[..., 3].detach()
    left, right = float(offset.min()) - MARGIN, float(offset.max()) + width / short + MARGIN
    top = height / short + 2 * MARGIN
    xs = torch.linspace(left, right, max(8, int((right - left) * short)), device=track.device)
    ys = torch.linspace(
        -MARGIN, height / short + MARGIN, max(8, int(top * short)), device=track.device
    )
    shade = torch.sigmoid(model.shade(cond.tone))
    return Layers(model.sprite(cond), model.texture(cond, xs, ys), left, right, cond.tone, shade)


def render(
    model: LayeredGenerator,
    cond: Condition,
    track: torch.Tensor,
    width: int,
    height: int,
    drawn: Layers | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clips (B, T, 3, H, W) in [0, 1] and the object's coverage (B, T, 1, H, W) for the
    frames of `track` (B, T, 5); `drawn`: the clip's layers, when rendered in chunks."""
    drawn = drawn or layers(model, cond, track, width, height)
    short = min(width, height)
    x, y, size, offset, zoom = track.unbind(-1)  # each (B, T)
    px = torch.arange(width, device=track.device, dtype=torch.float32) + 0.5
    py = torch.arange(height, device=track.device, dtype=torch.float32) + 0.5
    cx = (0.5 + (x - 0.5) * zoom) * width - offset * short
    cy = (0.5 + (y - 0.5) * zoom) * height
    radius = (size * short * zoom / 2).clamp(min=0.5)
    gx = (px - cx[..., None]) / radius[..., None] / EXTENT  # (B, T, W)
    gy = (py - cy[..., None]) / radius[..., None] / EXTENT  # (B, T, H)
    coverage = _sample(drawn.sprite, gx, gy, align_corners=False)
    # The camera: world coordinates of each pixel, mapped onto the canvas's [-1, 1].
    wx = ((px - width / 2) / zoom[..., None] + width / 2) / short + offset[..., None]
    wy = ((py - height / 2) / zoom[..., None] + height / 2) / short
    gx = (wx - drawn.left) / (drawn.right - drawn.left) * 2 - 1
    gy = (wy + MARGIN) / (height / short + 2 * MARGIN) * 2 - 1
    pattern = _sample(drawn.canvas, gx, gy, align_corners=True)
    tone, shade = drawn.tone[:, None, :, None, None], drawn.shade[:, None, :, None, None]
    background = tone * (1 - pattern) + shade * pattern
    colour = cond.colour[:, None, :, None, None]
    return background * (1 - coverage) + colour * coverage, coverage


def _sample(
    image: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor, align_corners: bool
) -> torch.Tensor:
    """Each clip's (B, 1, h, w) image at separable coordinates gx (B, T, W), gy (B, T, H) in
    [-1, 1] (outside: 0) -> (B, T, 1, H, W)."""
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
    sampled = F.grid_sample(images, grid.flatten(0, 1), align_corners=align_corners)
    return sampled.view(b, n, 1, height, width)
