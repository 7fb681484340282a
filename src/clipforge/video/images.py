"""The PNG a job keeps of its first and last frames (Pillow, numpy). Taking images and
videos in from clients is `api/accept/media/` (formats, caps, decoding untrusted bytes)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def encode_png(frame: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB uint8 frame (what a job keeps as its first or last frame)."""
    out = io.BytesIO()
    Image.fromarray(frame, "RGB").save(out, format="PNG", compress_level=3)
    return out.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """The RGB uint8 frame of PNG bytes written by `encode_png`."""
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
