"""The visible "AI generated" mark in the bottom-right corner (API.md section 2).

The mark is rendered once per output size as an RGBA patch (Pillow) and alpha-blended in place
into each frame, touching only the corner region, so the per-frame cost is a few thousand
pixels of numpy arithmetic.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TEXT = "AI generated"
FONT_SCALE = 0.035
"""Font size as a fraction of the frame's short side (the height in landscape)."""
MARGIN_SCALE = 0.025
MIN_FONT_PX = 10
OPACITY = 0.9


def _render_patch(text: str, font_px: int) -> np.ndarray:
    """White text with a dark outline and drop shadow, as an RGBA uint8 array."""
    font = ImageFont.load_default(size=font_px)
    stroke = max(1, round(font_px / 12))
    shadow = max(1, round(font_px / 16))
    left, top, right, bottom = (round(v) for v in font.getbbox(text, stroke_width=stroke))
    size = (right - left + shadow, bottom - top + shadow)
    patch = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(patch)
    origin = (-left, -top)
    shifted = (origin[0] + shadow, origin[1] + shadow)
    draw.text(shifted, text, font=font, fill=(0, 0, 0, 110), stroke_width=stroke)
    draw.text(
        origin,
        text,
        font=font,
        fill=(255, 255, 255, 255),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 255),
    )
    return np.asarray(patch)


class Watermark:
    """The mark for one output size; build once per video, then ``apply`` to every frame."""

    def __init__(self, width: int, height: int, text: str = TEXT) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        self.width = width
        self.height = height
        short = min(width, height)
        patch = _render_patch(text, max(MIN_FONT_PX, round(short * FONT_SCALE)))
        margin = round(short * MARGIN_SCALE)
        # Clip the patch on the left/top if the frame is too small to hold all of it.
        patch = patch[-max(1, height - margin) :, -max(1, width - margin) :]
        patch_h, patch_w = patch.shape[:2]
        right, bottom = max(patch_w, width - margin), max(patch_h, height - margin)
        self.box = (right - patch_w, bottom - patch_h, right, bottom)
        """(left, top, right, bottom) of the region the mark may change."""
        alpha = patch[..., 3:].astype(np.float32) * np.float32(OPACITY / 255.0)
        self._keep = 1.0 - alpha
        self._add = patch[..., :3].astype(np.float32) * alpha

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Draw the mark into ``frame`` (uint8, height x width x 3) in place; returns it."""
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"expected a uint8 frame of shape {(self.height, self.width, 3)}, "
                f"got {frame.dtype} {frame.shape}"
            )
        left, top, right, bottom = self.box
        region = frame[top:bottom, left:right]
        mixed = region * self._keep
        mixed += self._add
        np.rint(mixed, out=mixed)
        region[...] = mixed
        return frame
