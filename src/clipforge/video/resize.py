"""Resize native frames to the exact output size: scale to cover, centre-crop, never distort.

Scaling goes through FFmpeg's swscale (PyAV ``VideoFrame.reformat``), bicubic, writing planar
RGB (``gbrp``). Measured on a 2-core AMD EPYC for 832x480 -> 1920x1088 (ms per frame):
swscale to gbrp 3.8 (conversion to an array included), swscale to packed rgb24 9.9, Pillow
bicubic 16.0, Pillow lanczos 22.2. Packed RGB output is a slow path in swscale; the planar
output is the same pixels, interleaved by PyAV's ``to_ndarray``.
"""

from __future__ import annotations

import av
import numpy as np

INTERPOLATION = "BICUBIC"

CropBox = tuple[int, int, int, int]
"""(left, top, right, bottom) in source pixels, right and bottom exclusive."""


def _rounded_ratio(numerator: int, denominator: int) -> int:
    return max(1, (2 * numerator + denominator) // (2 * denominator))


def cover_crop_box(src_w: int, src_h: int, dst_w: int, dst_h: int) -> CropBox:
    """The centred region of the source with the target's aspect ratio, as large as fits.

    Scaling that region to ``dst_w x dst_h`` covers the target without bars; the box has whole
    source pixels, so its aspect ratio is right to within one source pixel and its centre to
    within half of one.
    """
    if min(src_w, src_h, dst_w, dst_h) < 1:
        raise ValueError(f"sizes must be positive: {src_w}x{src_h} -> {dst_w}x{dst_h}")
    if dst_w * src_h >= dst_h * src_w:
        # Target is wider than (or as wide as) the source: keep the full width.
        crop_w, crop_h = src_w, min(src_h, _rounded_ratio(src_w * dst_h, dst_w))
    else:
        crop_w, crop_h = min(src_w, _rounded_ratio(src_h * dst_w, dst_h)), src_h
    left = (src_w - crop_w) // 2
    top = (src_h - crop_h) // 2
    return left, top, left + crop_w, top + crop_h


def _check_frame(frame: np.ndarray) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            f"expected a uint8 RGB frame of shape (height, width, 3), got {frame.dtype} "
            f"{frame.shape}"
        )


def resize_frame(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale a uint8 RGB frame to cover ``width x height`` and centre-crop it to exactly that.

    Always returns a new, writable array of shape ``(height, width, 3)``.
    """
    _check_frame(frame)
    if width < 1 or height < 1:
        raise ValueError(f"target size must be positive, got {width}x{height}")
    src_h, src_w = frame.shape[:2]
    left, top, right, bottom = cover_crop_box(src_w, src_h, width, height)
    region = frame[top:bottom, left:right]
    if region.shape[:2] == (height, width):
        return region.copy()
    source = av.VideoFrame.from_ndarray(np.ascontiguousarray(region), format="rgb24")
    scaled = source.reformat(width, height, format="gbrp", interpolation=INTERPOLATION)
    return np.ascontiguousarray(scaled.to_ndarray())
