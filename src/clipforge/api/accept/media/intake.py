"""Taking in a request's media, images and videos by one set of rules, before a job exists.

An image comes as a `data:` URL (base64) or an http(s) URL (`fetch.py`); a video comes as an
uploaded file. Both are recognised by their first bytes against an allow-list (`kinds.py`),
decoded with the same pixel cap and minimum size (`stills.py`, `clips.py`), and every problem
is a 400 naming the field. Decoding never runs on the event loop: images in the default
thread pool, videos in a small pool of their own (`VIDEO_THREADS`), so that uploads, however
many, cannot hold up another tenant's image create for longer than one image decode.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from clipforge.api.accept.media.clips import ClipLimits, last_frame
from clipforge.api.accept.media.fetch import fetch
from clipforge.api.accept.media.kinds import MediaRejected, image_format
from clipforge.api.accept.media.stills import decode_image
from clipforge.errors import InvalidField, RateLimited
from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution
from clipforge.settings import Settings
from clipforge.video.images import encode_png
from clipforge.video.resize import resize_frame

MAX_PIXELS = 40_000_000
"""About 8K x 5K, for an image or a video's frame: more is refused before decoding."""
MIN_SIDE = 64
VIDEO_THREADS = 2
"""Uploaded videos decoded at once in this process; more wait their turn."""
VIDEO_WAITING = 16
"""Uploads that may wait for the pool; more are a 429 (each holds its bytes in memory)."""

_video_pool = ThreadPoolExecutor(VIDEO_THREADS, thread_name_prefix="video-intake")
_videos_taken = 0
"""Uploads in the pool or waiting for it (changed on the event loop only)."""


@dataclass(frozen=True)
class Image:
    """One decoded image of a request: its field (for errors), which frame it is, the pixels
    as sent (RGB uint8, upright) and how the request records it (`described`)."""

    field: str
    which: str
    pixels: np.ndarray
    described: str
    png: bytes | None = None
    """The pixels as PNG bytes already (a frame read back from storage: a remix's frames, an
    extension's last frame): stored as they are when the job's frame size is theirs."""


async def take_image(
    field: str, which: str, url: str, settings: Settings, uploaded: bytes | None = None
) -> Image:
    """Fetch (or read, or take as `uploaded`) and decode one image; InvalidField naming
    `field` when it fails. Inline bytes are recorded by their type and digest."""
    inline = uploaded is not None or url.startswith("data:")
    if uploaded is not None:
        data = uploaded
    elif inline:
        data = _read_data_url(field, url, settings.max_image_bytes)
    else:
        data = await fetch(field, url, settings)
    if len(data) > settings.max_image_bytes:
        raise InvalidField(field, f"the image is larger than {settings.max_image_bytes} bytes")
    try:
        pixels, described = await asyncio.to_thread(_decoded, data, inline)
    except MediaRejected as exc:
        raise InvalidField(field, str(exc)) from None
    return Image(field, which, pixels, described or url)


def _decoded(data: bytes, inline: bool) -> tuple[np.ndarray, str | None]:
    """The pixels, and how the request records inline bytes (by type and digest; hashing a
    20 MB upload is work for this thread, not the event loop)."""
    pixels = decode_image(data, MAX_PIXELS, MIN_SIDE)
    if not inline:
        return pixels, None
    return pixels, f"data:{image_format(data) or 'unknown'};sha256={digest(data)[:16]}"


async def take_video_last_frame(field: str, data: bytes, settings: Settings) -> np.ndarray:
    """The last frame of an uploaded video, in the video pool; InvalidField naming `field`."""
    limits = ClipLimits(
        max_pixels=MAX_PIXELS,
        min_side=MIN_SIDE,
        max_seconds=settings.max_video_seconds,
        max_frames=settings.max_video_frames,
        deadline_seconds=settings.video_decode_seconds,
    )
    global _videos_taken
    if _videos_taken >= VIDEO_THREADS + VIDEO_WAITING:
        raise RateLimited("too many uploaded videos are being taken in; retry soon", 2, "uploads")
    loop = asyncio.get_running_loop()
    work = partial(contextvars.copy_context().run, last_frame, data, limits)
    _videos_taken += 1
    try:
        return await loop.run_in_executor(_video_pool, work)
    except MediaRejected as exc:
        raise InvalidField(field, str(exc)) from None
    finally:
        _videos_taken -= 1


def digest(data: bytes) -> str:
    """The SHA-256 of uploaded bytes (how a request records and fingerprints them)."""
    return hashlib.sha256(data).hexdigest()


def nearest_ratio(
    image: np.ndarray, allowed: Sequence[AspectRatio] = tuple(AspectRatio)
) -> AspectRatio:
    """The allowed aspect ratio nearest the image's own (`adaptive`): `allowed` is the model
    id's (2.x: no 9:21, so a 9:21 image gives 9:16)."""
    height, width = image.shape[:2]
    sizes = FRAME_SIZES[Resolution.P1080]
    return min(allowed, key=lambda r: abs(np.log(sizes[r][0] / sizes[r][1] * height / width)))


def fitted_png(image: Image, width: int, height: int) -> bytes:
    """The image fitted to the frame size, as PNG (blocking: call it in a thread). PNG bytes
    of that size already are the stored frame: no second resize and encode."""
    if image.png is not None and image.pixels.shape[:2] == (height, width):
        return image.png
    return encode_png(resize_frame(image.pixels, width, height))


def _read_data_url(field: str, url: str, max_bytes: int) -> bytes:
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise InvalidField(field, "a data: URL must be base64 (data:image/png;base64,...)")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise InvalidField(field, f"the image is larger than {max_bytes} bytes")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidField(field, "the data: URL is not valid base64") from None
