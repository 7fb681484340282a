"""Outbound URLs a client hands us (callback_url, image URLs): refused (400 naming the field)
when they are not http(s) or when their host resolves to a private, loopback, link-local or
otherwise non-global address, unless the host or network is in `settings.url_allowlist`.

The check resolves the name the way a later fetch would; the callback dispatcher checks
again right before each delivery, so a name that later resolves elsewhere is caught there.
Image fields also take `data:` URLs (inline images: nothing is fetched).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit

from clipforge.errors import InvalidField

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(field: str, url: str) -> SplitResult:
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidField(field, "not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidField(field, "must be an http or https URL with a host")
    return parsed


def allowed(host: str, address: IpAddress | None, allowlist: Sequence[str]) -> bool:
    """True if the host name or its address is in the allowlist (names, IPs or CIDRs)."""
    for entry in allowlist:
        if entry.lower() == host.lower():
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if address is not None and address in network:
            return True
    return False


def _check_addresses(field: str, host: str, addresses: list[str], allowlist: Sequence[str]) -> None:
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if (not address.is_global or address.is_multicast) and not allowed(
            host, address, allowlist
        ):
            raise InvalidField(
                field, f"host {host!r} is a private, loopback or link-local address ({address})"
            )


def _port(parsed: SplitResult) -> int:
    return parsed.port or (443 if parsed.scheme == "https" else 80)


async def check_url(field: str, url: str, allowlist: Sequence[str], *, data: bool = False) -> None:
    """Refuse `url` unless it is a public http(s) URL (or, with `data`, a data: URL)."""
    if data and url.startswith("data:"):
        return
    parsed = _parse(field, url)
    host = str(parsed.hostname)
    if allowed(host, None, allowlist):
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, _port(parsed), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidField(field, f"host {host!r} does not resolve") from None
    _check_addresses(field, host, [str(info[4][0]) for info in infos], allowlist)


def check_url_now(field: str, url: str, allowlist: Sequence[str]) -> None:
    """`check_url` for threads (blocks on the resolver): used right before a delivery."""
    parsed = _parse(field, url)
    host = str(parsed.hostname)
    if allowed(host, None, allowlist):
        return
    try:
        infos = socket.getaddrinfo(host, _port(parsed), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidField(field, f"host {host!r} does not resolve") from None
    _check_addresses(field, host, [str(info[4][0]) for info in infos], allowlist)


async def check_urls(urls: dict[str, str | None], allowlist: Sequence[str]) -> None:
    """Check each field's URL (absent ones skipped); image fields may be data: URLs."""
    for field, url in urls.items():
        if url is not None:
            await check_url(field, url, allowlist, data=field != "callback_url")
