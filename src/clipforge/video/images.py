"""Still images in and out (Pillow, numpy, PyAV): decoding what a client sends as a first or
last frame, safely, and the PNG the job keeps.

- Formats: JPEG, PNG and WebP; anything else is refused. An animated PNG or WebP gives its
  first frame (documented: an animation is not a video input).
- EXIF orientation is applied, so a phone photo is the right way up.
- Decompression bombs: the pixel count is checked from the header, before any pixel is
  decoded (`MAX_PIXELS`), and a truncated file is refused, not padded.
- Too small to be a frame: either side under `MIN_SIDE`.

Fitting to a job's frame size is `video.resize.resize_frame` (centre crop to the aspect
ratio, then scale), the one rule every backend sees images through.
"""

from __future__ import annotations

import io
import warnings

import av
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000
"""About 8K x 5K: more is refused before decoding (a small file can decode to gigabytes)."""
MIN_SIDE = 64


class ImageRejected(ValueError):
    """The bytes are not an image ClipForge takes; the message says why."""


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS, min_side: int = MIN_SIDE) -> np.ndarray:
    """An RGB uint8 array (height, width, 3), upright, from JPEG, PNG or WebP bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except UnidentifiedImageError:
            raise ImageRejected("not a JPEG, PNG or WebP image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(f"more than {max_pixels} pixels") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(f"{width}x{height} is more than {max_pixels} pixels")
        if min(width, height) < min_side:
            raise ImageRejected(f"{width}x{height} is smaller than {min_side} px on a side")
        try:
            image.seek(0)  # an animation: its first frame
            upright = ImageOps.exif_transpose(image)
            rgb = upright.convert("RGB")
            rgb.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected(f"the image is damaged or cut short ({exc})") from None
    return np.asarray(rgb, dtype=np.uint8).copy()


def image_format(data: bytes) -> str | None:
    """The media type of JPEG, PNG or WebP bytes by their signature, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def last_video_frame(data: bytes) -> np.ndarray:
    """The last frame of a video file (any container FFmpeg reads), decoded one frame at a
    time (blocking: call it in a thread); ImageRejected when it is not a video."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            last = None
            for frame in container.decode(video=0):
                last = frame
    except (av.error.FFmpegError, IndexError, ValueError) as exc:
        raise ImageRejected(f"not a video this server can read ({exc})") from None
    if last is None:
        raise ImageRejected("the video has no frames")
    return np.asarray(last.to_ndarray(format="rgb24"), dtype=np.uint8)


def encode_png(frame: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB uint8 frame (what a job keeps as its first or last frame)."""
    out = io.BytesIO()
    Image.fromarray(frame, "RGB").save(out, format="PNG", compress_level=3)
    return out.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """The RGB uint8 frame of PNG bytes written by `encode_png`."""
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
