"""First and last frames: a clip that starts on a given image and ends on another.

Structure, not training: the image is split into a background plate and the object that
stands out from it, and the generator's track moves that object (and the camera over the
plate) as the prompt says. At the image's own time the track's displacement is zero, so the
frame is the image itself, pixel for pixel; the object keeps the image's own pixels (its
colour, shape and edges) all along. With both images the path is bent linearly so that it
reaches the last image's object, and the two objects and plates are weighted by time.
An image where nothing stands out from the background (a photograph, say) is all plate: the
camera still moves over it, and nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from clipforge.backends.builtin.v2.generator import (
    on_screen,
    pixel_centres,
    sample_separable,
    world,
)

APART = 0.25
"""RGB distance (0-1 per channel) from every background colour at which a pixel is object."""
SECOND_SHARE = 0.1
"""Share of the border a second colour needs to count as the background's (a pattern)."""
MOST = 0.4
"""An 'object' covering more of the frame than this is not one: all of the image is plate."""


@dataclass(frozen=True)
class Still:
    """A given frame split into layers, (C, H, W) tensors in [0, 1]."""

    image: torch.Tensor
    plate: torch.Tensor
    mask: torch.Tensor  # (1, H, W), 0 or 1
    centre: tuple[float, float]  # the object's centre, pixels
    size: float  # the square root of its area, pixels (1 when there is none)

    @classmethod
    def of(cls, image: np.ndarray) -> Still:
        """From a uint8 (H, W, 3) frame at the size the clip is rendered at."""
        pixels = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255
        mask = object_mask(pixels)
        area = float(mask.sum())
        if area == 0:
            return cls(pixels, pixels, mask, (pixels.shape[2] / 2, pixels.shape[1] / 2), 1.0)
        ys, xs = torch.nonzero(mask[0], as_tuple=True)
        centre = (float(xs.float().mean()) + 0.5, float(ys.float().mean()) + 0.5)
        return cls(pixels, fill(pixels, mask), mask, centre, area**0.5)


def background_colours(pixels: torch.Tensor) -> torch.Tensor:
    """(K, 3), K = 1 or 2: the border's median colour, and a second one where a pattern puts
    another colour on SECOND_SHARE of the border."""
    border = torch.cat(
        [pixels[:, 0], pixels[:, -1], pixels[:, :, 0], pixels[:, :, -1]], dim=1
    ).T  # (N, 3)
    first = border.median(dim=0).values
    others = border[(border - first).norm(dim=1) > APART]
    if len(others) < SECOND_SHARE * len(border):
        return first[None]
    return torch.stack([first, others.median(dim=0).values])


def object_mask(pixels: torch.Tensor) -> torch.Tensor:
    """(1, H, W): the pixels far from every background colour, without specks (an opening),
    grown by a pixel so that the object's soft edge goes with it; empty when nothing or
    too much stands out."""
    colours = background_colours(pixels)
    distance = (pixels[None] - colours[:, :, None, None]).norm(dim=1).amin(dim=0)
    mask = (distance > APART).float()[None, None]
    mask = -F.max_pool2d(-mask, 3, 1, 1)  # erode: specks and thin pattern fringes go
    mask = F.max_pool2d(mask, 5, 1, 2)  # dilate: back, and a pixel of edge beyond
    if float(mask.mean()) > MOST:
        mask = torch.zeros_like(mask)
    return mask[0]


def fill(pixels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The image with the masked pixels filled from their surroundings, ring by ring (in the
    mask's box and a margin: only there does anything change)."""
    ys, xs = torch.nonzero(mask[0], as_tuple=True)
    if len(ys) == 0:
        return pixels
    top, left = max(0, int(ys.min()) - 2), max(0, int(xs.min()) - 2)
    bottom, right = int(ys.max()) + 3, int(xs.max()) + 3
    out = pixels.clone()
    box = (slice(None), slice(top, bottom), slice(left, right))
    out[box] = _fill(pixels[box], mask[box])
    return out


def _fill(pixels: torch.Tensor, mask: torch.Tensor, rounds: int = 400) -> torch.Tensor:
    known = 1 - mask[None]
    values = pixels[None] * known
    for _ in range(rounds):
        if bool(known.min() > 0):
            break
        total = F.avg_pool2d(values, 3, 1, 1, count_include_pad=False)
        weight = F.avg_pool2d(known, 3, 1, 1, count_include_pad=False)
        fresh = (weight > 0) & (known == 0)
        values = torch.where(fresh, total / weight.clamp(min=1e-6), values)
        known = torch.where(fresh, torch.ones_like(known), known)
    return values[0]


@dataclass(frozen=True)
class FromStills:
    """Where the object and the camera are at each frame, relative to the given stills:
    the whole clip's track (1, N, 5) and the stills."""

    track: torch.Tensor
    first: Still | None
    last: Still | None

    def weight(self, times: torch.Tensor) -> torch.Tensor:
        """(T,) how much of the last still each frame shows (0 before, 1 at the end)."""
        if self.first is None:
            return torch.ones_like(times)
        if self.last is None:
            return torch.zeros_like(times)
        return times

    def render(self, index: torch.Tensor, width: int, height: int) -> torch.Tensor:
        """(T, 3, H, W) in [0, 1] for the frames at `index` (T,) of the clip."""
        count = self.track.shape[1]
        times = index.float() / max(1, count - 1)
        w = self.weight(times)[:, None, None, None]
        cx, cy, radius = (v[0] for v in on_screen(self.track, width, height))  # (N,)
        layers = []
        for still, end in ((self.first, 0), (self.last, count - 1)):
            if still is None:
                continue
            layers.append(self._layer(still, end, index, cx, cy, radius, width, height))
        if len(layers) == 1:
            plate, colour, coverage = layers[0]
        else:
            (p0, c0, m0), (p1, c1, m1) = layers
            plate, colour, coverage = (
                p0 * (1 - w) + p1 * w,
                c0 * (1 - w) + c1 * w,
                m0 * (1 - w) + m1 * w,
            )
        return plate * (1 - coverage) + colour

    def _shift(
        self, still: Still, end: int, cx: torch.Tensor, cy: torch.Tensor, radius: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The still's object centre x, y (N,) and scale (N,) over the clip: the track's
        displacement from the still's own frame, bent to reach the other still, if any."""
        x = still.centre[0] + cx - cx[end]
        y = still.centre[1] + cy - cy[end]
        scale = radius / radius[end]
        if self.first is not None and self.last is not None:
            n = cx.shape[0]
            # 0 at this still's frame, 1 at the other's.
            share = torch.linspace(0.0, 1.0, n) if end == 0 else torch.linspace(1.0, 0.0, n)
            other, far = (self.last, n - 1) if end == 0 else (self.first, 0)
            x = x + share * (other.centre[0] - x[far])
            y = y + share * (other.centre[1] - y[far])
            scale = scale * (other.size / still.size / scale[far]) ** share
        return x, y, scale

    def _layer(
        self,
        still: Still,
        end: int,
        index: torch.Tensor,
        cx: torch.Tensor,
        cy: torch.Tensor,
        radius: torch.Tensor,
        width: int,
        height: int,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The still's plate as the camera shows it, its object's colour times coverage, and
        the coverage, at the frames `index`: (T, C, H, W) each."""
        x, y, scale = (v[index] for v in self._shift(still, end, cx, cy, radius))
        px, py = pixel_centres(width, height, cx.device)
        # The object: each output pixel reads the still at the point the track moved there.
        sx = still.centre[0] + (px[None] - x[:, None]) / scale[:, None]  # (T, W)
        sy = still.centre[1] + (py[None] - y[:, None]) / scale[:, None]  # (T, H)
        gx, gy = (sx / width * 2 - 1)[None], (sy / height * 2 - 1)[None]
        both = torch.cat([still.image * still.mask, still.mask])[None]
        sampled = sample_separable(both, gx, gy, align_corners=False)[0]
        colour, coverage = sampled[:, :3], sampled[:, 3:]
        # The plate: the world the camera sees now, as the still's own frame saw it.
        camera = self.track[0, :, 3:]
        if torch.equal(camera, camera[end : end + 1].expand_as(camera)):  # a still camera
            return still.plate.expand(len(index), -1, -1, -1), colour, coverage
        wx, wy = (v[0, index] for v in world(self.track, width, height))
        _, _, _, offset, zoom = self.track[0, end]
        short = min(width, height)
        sx = ((wx - offset) * short - width / 2) * zoom + width / 2
        sy = (wy * short - height / 2) * zoom + height / 2
        gx, gy = (sx / width * 2 - 1)[None], (sy / height * 2 - 1)[None]
        plate = sample_separable(still.plate[None], gx, gy, False, "reflection")[0]
        return plate, colour, coverage
