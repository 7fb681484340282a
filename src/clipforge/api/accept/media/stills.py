"""Decoding a still image a client sends (Pillow, numpy): JPEG, PNG and WebP only, safely.

- An animated PNG or WebP gives its first frame (an animation is not a video input).
- EXIF orientation is applied, so a phone photo is the right way up.
- Decompression bombs: the pixel count is checked from the header, before any pixel is
  decoded, and a truncated file is refused, not padded.
- 16-bit images are scaled to 8 bits (Pillow's own conversion clips them: almost white).
- Any failure of the decoder on these bytes is the file's fault: MediaRejected, never a 500.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from clipforge.api.accept.media.kinds import IMAGE_TYPES, MediaRejected

_WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
"""Integer greyscale modes; from PNG they hold 16-bit samples (0..65535)."""


def decode_image(data: bytes, max_pixels: int, min_side: int) -> np.ndarray:
    """An RGB uint8 array (height, width, 3), upright, from JPEG, PNG or WebP bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise MediaRejected(f"more than {max_pixels} pixels") from None
        except Exception:  # the parser of untrusted bytes failed: a bad file
            raise MediaRejected(_unreadable(data)) from None
    with image:
        check_size(image.size, max_pixels, min_side)
        try:
            image.seek(0)  # an animation: its first frame
            return _rgb(ImageOps.exif_transpose(image))
        except Exception as exc:  # as above: damaged, whatever the decoder says
            raise MediaRejected(f"the image is damaged or cut short ({exc})") from None


def check_size(size: tuple[int, int], max_pixels: int, min_side: int) -> None:
    """The rule every picture meets, a still or a video's frame: at most `max_pixels`, at
    least `min_side` on each side."""
    width, height = size
    if width * height > max_pixels:
        raise MediaRejected(f"{width}x{height} is more than {max_pixels} pixels")
    if min(width, height) < min_side:
        raise MediaRejected(f"{width}x{height} is smaller than {min_side} px on a side")


def _unreadable(data: bytes) -> str:
    if data[:4] == b"RIFF" or data[:3] == b"\xff\xd8\xff" or data[:4] == b"\x89PNG":
        return "the image is damaged or cut short"
    return "not a JPEG, PNG or WebP image"


def _rgb(image: Image.Image) -> np.ndarray:
    if image.mode in _WIDE_MODES:
        wide = np.asarray(image, dtype=np.uint32)
        grey = ((wide.clip(0, 65535) * 255 + 32767) // 65535).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    rgb = image.convert("RGB")
    rgb.load()
    return np.asarray(rgb, dtype=np.uint8).copy()
