"""First and last frames, taken in once, at accept time, before a job exists.

An image comes as a `data:` URL (base64) or an http(s) URL. A URL is fetched once, through
the same guard as callbacks (`api/urls.py`: public addresses only, the connection goes to the
address that was checked, every redirect is checked again), with connect and total timeouts
and a byte cap. The bytes are decoded (`video/images.py`: JPEG, PNG, WebP; EXIF orientation;
a pixel cap; a minimum size), fitted to the job's frame size by the one rule every backend
shares (`video.resize.resize_frame`: centre crop to the aspect ratio, then scale) and stored
as PNG beside the job's video (`files.base.frame_key`), so that a retried job never depends
on a remote URL and deleting the job deletes them. Decoding and fitting run in a thread,
never on the event loop. Every problem is a 400 naming the field.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
import numpy as np

from clipforge.api.urls import pinned, resolve
from clipforge.errors import InvalidField
from clipforge.schemas import FRAME_SIZES, AspectRatio, Resolution
from clipforge.settings import Settings
from clipforge.video.images import ImageRejected, decode_image, encode_png, image_format
from clipforge.video.resize import resize_frame

MAX_REDIRECTS = 3
CONNECT_TIMEOUT_SECONDS = 5.0
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Image:
    """One decoded image of a request: its field (for errors), which frame it is, the pixels
    as sent (RGB uint8, upright) and how the request records it (`described`)."""

    field: str
    which: str
    pixels: np.ndarray
    described: str


async def take_image(field: str, which: str, url: str, settings: Settings) -> Image:
    """Fetch (or read) and decode one image; InvalidField naming `field` when it fails."""
    if url.startswith("data:"):
        data = _read_data_url(field, url, settings.max_image_bytes)
        described = f"data:{image_format(data) or 'unknown'};sha256={_digest(data)}"
    else:
        data, described = await _fetch(field, url, settings), url
    try:
        pixels = await asyncio.to_thread(decode_image, data)
    except ImageRejected as exc:
        raise InvalidField(field, str(exc)) from None
    return Image(field, which, pixels, described)


def nearest_ratio(image: np.ndarray) -> AspectRatio:
    """The allowed aspect ratio nearest the image's own (Ark's `ratio: adaptive`)."""
    height, width = image.shape[:2]
    sizes = FRAME_SIZES[Resolution.P1080]
    return min(AspectRatio, key=lambda r: abs(np.log(sizes[r][0] / sizes[r][1] * height / width)))


def fitted_png(image: Image, width: int, height: int) -> bytes:
    """The image fitted to the frame size, as PNG (blocking: call it in a thread)."""
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


async def _fetch(field: str, url: str, settings: Settings) -> bytes:
    timeout = httpx.Timeout(settings.image_fetch_timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        try:
            return await asyncio.wait_for(
                _follow(client, field, url, settings), settings.image_fetch_timeout_seconds
            )
        except TimeoutError:
            seconds = settings.image_fetch_timeout_seconds
            raise InvalidField(field, f"fetching the image took more than {seconds:g} s") from None


async def _follow(client: httpx.AsyncClient, field: str, url: str, settings: Settings) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        target = await resolve(field, url, settings.url_allowlist, only=settings.url_allowlist_only)
        address, headers, extensions = pinned(target)
        try:
            async with client.stream(
                "GET", address, headers=headers, extensions=extensions
            ) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                return await _body(field, response, settings.max_image_bytes)
        except httpx.TimeoutException:
            raise InvalidField(field, "the image server did not answer in time") from None
        except httpx.HTTPError as exc:
            raise InvalidField(
                field, f"the image could not be fetched ({type(exc).__name__})"
            ) from None
    raise InvalidField(field, f"more than {MAX_REDIRECTS} redirects")


async def _body(field: str, response: httpx.Response, max_bytes: int) -> bytes:
    if response.status_code != 200:
        raise InvalidField(field, f"the image URL answered HTTP {response.status_code}")
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and not kind.startswith("image/") and kind != "application/octet-stream":
        raise InvalidField(field, f"not an image (content type {kind})")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise InvalidField(field, f"the image is larger than {max_bytes} bytes")
    chunks, received = [], 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise InvalidField(field, f"the image is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
