"""The camera's motion behind a clip: stage 4 of the analyser (`analyse.py`).

Each frame's smoothed background (object masked out) is registered to the first frame's by
robust Levenberg-Marquardt over a shift and a zoom about the frame centre, starting from the
previous frames' camera, so periodic textures do not alias. A fit that explains the
background no better than a still camera (noise) is dropped, and a background without
texture carries no camera motion at all: both count as still.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

STILL_CAMERA = 0.05
"""Most the background may move (in short sides) for the camera to count as still."""
TEXTURE_ENERGY = 4.0
"""Least mean squared gradient of the smoothed background for camera motion to be seen."""
CAMERA_GAIN = 2.0
"""A moving camera must explain some frame's background this many times better (robust
squared error) than a still one; fitting noise gains much less."""


class Camera(NamedTuple):
    """The camera per frame relative to the first: a world point p of frame 0 is seen at
    c + zoom (p - c) + shift, with c the frame centre."""

    shifts: np.ndarray
    """(T, 2) background shift (dx, dy) in pixels."""
    zooms: np.ndarray
    """(T,) background zoom."""
    observable: bool
    """Whether the background has texture enough to see camera motion at all."""
    still: bool
    """Whether the camera counts as still."""


def camera_motion(clip: np.ndarray, foreground: np.ndarray) -> Camera:
    """The camera of float frames (T, H, W, 3), from the background: the pixels outside
    `foreground` (T, H, W), the object and anything else unlike the background."""
    _, height, width, _ = clip.shape
    ignore = ndimage.binary_dilation(foreground, structure=np.ones((1, 5, 5), dtype=bool))
    smooth = ndimage.gaussian_filter(clip, sigma=(0, 1.0, 1.0, 0))
    shifts, zooms, energy, gains = register(smooth, ignore)
    observable = energy >= TEXTURE_ENERGY
    if gains.max() < CAMERA_GAIN:  # no better than a still camera: noise, not motion
        shifts, zooms = np.zeros_like(shifts), np.ones_like(zooms)
    travel = np.abs(shifts).max() + np.abs(zooms - 1).max() * max(height, width) / 2
    still = bool(travel < STILL_CAMERA * min(height, width))
    return Camera(shifts, zooms, observable, still)


def register(
    smooth: np.ndarray, ignore: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Camera per frame relative to frame 0: shifts (T, 2), zooms (T,), the background's
    texture energy, and per frame how much better the fitted camera explains the
    background than a still one (cost of still / cost of fit, 1 where not fitted).
    A world point p of frame 0 is seen at c + zoom (p - c) + shift."""
    frames = len(smooth)
    shifts = np.zeros((frames, 2))
    zooms = np.ones(frames)
    gains = np.ones(frames)
    gy, gx = np.gradient(smooth, axis=(1, 2))
    keep0 = ~ignore[0]
    energy = float(((gx[0] ** 2 + gy[0] ** 2).sum(-1))[keep0].mean()) if keep0.any() else 0.0
    if energy < TEXTURE_ENERGY:
        return shifts, zooms, energy, gains
    fitter = _FrameFitter(smooth, gx, gy, ignore, energy)
    radius = fitter.radius
    for t in range(1, frames):
        previous = np.array([*shifts[t - 1], (zooms[t - 1] - 1) * radius])
        params = previous.copy()
        if t >= 2:  # constant-velocity guess
            params += previous - np.array([*shifts[t - 2], (zooms[t - 2] - 1) * radius])
        params, values, valid = fitter.fit(t, params, previous)
        gains[t] = fitter.gain(t, values, valid)
        shifts[t], zooms[t] = params[:2], 1 + params[2] / radius
    return shifts, zooms, energy, gains


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


class _FrameFitter:
    """Fits one frame's camera to frame 0's background. The parameters are the shift
    (x, y) and the zoom as the displacement it causes at `radius` pixels from the centre."""

    def __init__(
        self, smooth: np.ndarray, gx: np.ndarray, gy: np.ndarray, ignore: np.ndarray, energy: float
    ) -> None:
        _, self.height, self.width, self.channels = smooth.shape
        self.smooth, self.ignore = smooth, ignore
        self.keep0 = keep0 = ~ignore[0]
        ys, xs = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64)
        self.cx, self.cy = (self.width - 1) / 2, (self.height - 1) / 2
        self.radius = min(self.height, self.width) / 2  # zoom: the displacement at this radius
        self.u = u = (xs[keep0] - self.cx) / self.radius
        self.v = v = (ys[keep0] - self.cy) / self.radius
        self.reference = smooth[0][keep0]
        self.stacked = np.concatenate(
            [smooth, gx, gy, ignore[..., None].astype(np.float32)], axis=-1
        )
        self.least = 0.15 * keep0.size
        # A weak pull towards the previous frame's camera: a direction the texture does not
        # constrain (along stripes) stays put instead of drifting.
        self.mu = 1e-3 * (energy / 2) * (1 + (u * u + v * v).mean()) / 3

    def sample(self, t: int, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frame t's values, gradients and mask where frame 0's background pixels are seen,
        and which of them are inside the frame and unmasked."""
        x = self.cx + (self.radius + params[2]) * self.u + params[0]
        y = self.cy + (self.radius + params[2]) * self.v + params[1]
        values = _bilinear(self.stacked[t], x, y)
        valid = (x >= 0) & (x <= self.width - 1) & (y >= 0) & (y <= self.height - 1)
        return values, valid & (values[:, -1] < 0.01)

    def cost(self, t: int, params: np.ndarray, pull: np.ndarray) -> tuple:
        """Samples, valid mask and robust cost (with the pull towards `pull`)."""
        values, valid = self.sample(t, params)
        if valid.sum() < self.least:
            return values, valid, np.inf
        residual = values[valid, : self.channels] - self.reference[valid]
        penalty = 0.5 * self.mu * float(((params - pull) ** 2).sum())
        return values, valid, float(_huber(residual).mean()) + penalty

    def fit(
        self, t: int, params: np.ndarray, previous: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame t's camera starting from `params`, never worse than the previous frame's
        camera; with the samples and valid mask there."""
        params, values, valid, current = self._descend(t, params, previous)
        if np.any(params != previous):  # never worse than the previous frame's camera
            held = self.cost(t, previous, previous)
            if held[2] < current:
                params, (values, valid, current) = previous, held
        return params, values, valid

    def _descend(self, t: int, params: np.ndarray, previous: np.ndarray) -> tuple:
        """Levenberg-Marquardt on a robust (Huber) least squares: params, samples, valid
        mask and cost."""
        mu = self.mu
        values, valid, current = self.cost(t, params, previous)
        damping = 1e-3
        for _ in range(15):
            if not np.isfinite(current):
                break
            hessian, gradient = self._normal_equations(values, valid)
            for _ in range(6):
                system = hessian + mu * np.eye(3) + damping * np.diag(np.diag(hessian) + mu)
                step = -np.linalg.solve(system, gradient + mu * (params - previous))
                if np.abs(step).max() < 0.01:
                    break
                trial = params + step
                trial[2] = np.clip(trial[2], -0.4 * self.radius, 0.8 * self.radius)
                trial_values, trial_valid, trial_cost = self.cost(t, trial, previous)
                if trial_cost < current:
                    params, values, valid, current = trial, trial_values, trial_valid, trial_cost
                    damping /= 3
                    break
                damping *= 8
            else:
                break
            if np.abs(step).max() < 0.02:
                break
        return params, values, valid, current

    def _normal_equations(
        self, values: np.ndarray, valid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gauss-Newton Hessian (3, 3) and gradient (3,) of the reweighted cost."""
        channels = self.channels
        sx = values[valid, channels : 2 * channels]
        sy = values[valid, 2 * channels : 3 * channels]
        residual = values[valid, :channels] - self.reference[valid]
        weight = 1.0 / np.maximum(1.0, np.abs(residual) / 20.0)
        jac = np.stack([sx, sy, sx * self.u[valid, None] + sy * self.v[valid, None]], axis=-1)
        count = residual.size
        hessian = np.einsum("nci,nc,ncj->ij", jac, weight, jac) / count
        gradient = np.einsum("nci,nc,nc->i", jac, weight, residual) / count
        return hessian, gradient

    def gain(self, t: int, values: np.ndarray, valid: np.ndarray) -> float:
        """How much better the fitted camera explains frame t's background than a still
        one (cost of still / cost of fit; 1 where too little background is seen)."""
        still = self.keep0 & ~self.ignore[t]
        if valid.sum() >= 0.15 * self.keep0.size and still.any():
            fit = _huber(values[valid, : self.channels] - self.reference[valid]).mean()
            unmoved = _huber(self.smooth[t][still] - self.smooth[0][still]).mean()
            return float((unmoved + 1.0) / (fit + 1.0))
        return 1.0
