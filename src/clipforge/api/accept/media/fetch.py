"""Fetching an image URL once, through the same guard as callbacks (`outbound.py`: public
addresses only, the connection goes to the address that was checked), with connect and
total timeouts and a byte cap. Every redirect is checked again, and one to anything but
http(s) (a `data:` or `file:` URL) is refused: a server may not choose the bytes' origin."""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin, urlsplit

import httpx

from clipforge.errors import InvalidField
from clipforge.outbound import pinned, resolve
from clipforge.settings import Settings

MAX_REDIRECTS = 3
CONNECT_TIMEOUT_SECONDS = 5.0
_REDIRECTS = {301, 302, 303, 307, 308}


async def fetch(field: str, url: str, settings: Settings) -> bytes:
    """The body of `url` (InvalidField naming `field` for every way it can fail)."""
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
                    url = _redirected(field, url, response.headers["location"])
                    continue
                return await _body(field, response, settings.max_image_bytes)
        except httpx.InvalidURL:  # httpx reads a redirect's Location before we can
            raise InvalidField(field, "the image server redirected to a URL not http(s)") from None
        except httpx.TimeoutException:
            raise InvalidField(field, "the image server did not answer in time") from None
        except httpx.HTTPError as exc:
            raise InvalidField(
                field, f"the image could not be fetched ({type(exc).__name__})"
            ) from None
    raise InvalidField(field, f"more than {MAX_REDIRECTS} redirects")


def _redirected(field: str, url: str, location: str) -> str:
    try:
        target = urljoin(url, location)
        scheme = urlsplit(target).scheme.lower()
    except ValueError:
        raise InvalidField(field, "the image server redirected to a URL not http(s)") from None
    if scheme not in ("http", "https"):
        shown = scheme or "no scheme"
        raise InvalidField(field, f"the image server redirected to a {shown}: URL, not http(s)")
    return target


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
