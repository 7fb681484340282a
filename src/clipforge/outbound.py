"""Outbound URLs a client hands us (callback_url, image URLs): refused (400 naming the field)
when they are not http(s) or when their host resolves to an address that is not public,
unless the host or network is in `settings.url_allowlist`. With `settings.url_allowlist_only`
only allowlisted hosts and networks may be reached at all (a closed network; the tests).

Not public: private, loopback, link-local, multicast, reserved or otherwise non-global
addresses, and every IPv6 address that embeds a non-public IPv4 one: IPv4-mapped
(`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64
(`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4 (`2002::/16`) and Teredo (`2001::/32`, both its server
and its client address). Also never public, whatever the running Python's tables say:
192.0.0.0/24 (IETF protocol assignments) and fec0::/10 (IPv6 site-local).

`resolve` returns the address it checked, and a delivery connects to exactly that address
(`pinned`): the name is never looked up a second time between the check and the connection,
so a name that answers a public address first and an internal one next (DNS rebinding) gets
nowhere. Image fields also take `data:` URLs (inline images: nothing is fetched).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from clipforge.errors import InvalidField

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Networks whose low 32 bits are an IPv4 address: NAT64 and SIIT's IPv4-translated addresses.
_EMBEDDING = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
)
# Not public although some Python versions' tables say so: IETF protocol assignments (the
# dummy 192.0.0.8, DS-Lite's 192.0.0.0/29, ...) and the deprecated IPv6 site-local block.
_NEVER_PUBLIC = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("fec0::/10"))
_LOW_32_BITS = 0xFFFFFFFF


@dataclass(frozen=True)
class Target:
    """A checked URL and the one address a connection to it may use."""

    url: str
    host: str
    port: int
    address: IpAddress | None
    """None for an allowlisted host name (the system resolver then picks)."""


def embedded_ipv4(address: IpAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries inside it (none for an IPv4 address)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found += list(address.teredo)
    value = int(address)
    if any(address in network for network in _EMBEDDING) or value >> 32 == 0:
        found.append(ipaddress.IPv4Address(value & _LOW_32_BITS))  # also IPv4-compatible
    return found


def is_public(address: IpAddress) -> bool:
    """True for a global unicast address that embeds no non-public IPv4 address."""
    if not address.is_global or address.is_multicast:
        return False
    if any(address in network for network in _NEVER_PUBLIC):
        return False
    return all(is_public(inner) for inner in embedded_ipv4(address))


def _parse(field: str, url: str) -> SplitResult:
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidField(field, "not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidField(field, "must be an http or https URL with a host")
    try:  # the parser a fetch or a delivery uses: what it cannot send is refused now
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidField(field, f"not a valid URL ({exc})") from None
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


def _checked(
    field: str,
    parsed: SplitResult,
    url: str,
    infos: list[Any],
    allowlist: Sequence[str],
    only: bool,
) -> Target:
    host = str(parsed.hostname)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if only and not allowed(host, address, allowlist):
            raise InvalidField(field, f"host {host!r} is not in CLIPFORGE_URL_ALLOWLIST")
        if not is_public(address) and not allowed(host, address, allowlist):
            raise InvalidField(
                field, f"host {host!r} is a private, loopback or link-local address ({address})"
            )
    if not addresses:
        raise InvalidField(field, f"host {host!r} does not resolve")
    return Target(url, host, _port(parsed), addresses[0])


def _port(parsed: SplitResult) -> int:
    return parsed.port or (443 if parsed.scheme == "https" else 80)


async def resolve(field: str, url: str, allowlist: Sequence[str], *, only: bool = False) -> Target:
    """Check `url` and pick the address to connect to (InvalidField naming `field`); with
    `only`, nothing outside the allowlist passes."""
    parsed = _parse(field, url)
    host = str(parsed.hostname)
    if allowed(host, None, allowlist):
        return Target(url, host, _port(parsed), None)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, _port(parsed), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidField(field, f"host {host!r} does not resolve") from None
    return _checked(field, parsed, url, list(infos), allowlist, only)


def resolve_now(field: str, url: str, allowlist: Sequence[str], *, only: bool = False) -> Target:
    """`resolve` for threads (blocks on the resolver)."""
    parsed = _parse(field, url)
    host = str(parsed.hostname)
    if allowed(host, None, allowlist):
        return Target(url, host, _port(parsed), None)
    try:
        infos = socket.getaddrinfo(host, _port(parsed), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidField(field, f"host {host!r} does not resolve") from None
    return _checked(field, parsed, url, infos, allowlist, only)


async def check_url(
    field: str, url: str, allowlist: Sequence[str], *, data: bool = False, only: bool = False
) -> None:
    """Refuse `url` unless it is a public http(s) URL (or, with `data`, a data: URL)."""
    if data and url.startswith("data:"):
        return
    await resolve(field, url, allowlist, only=only)


def check_url_now(field: str, url: str, allowlist: Sequence[str], *, only: bool = False) -> None:
    """`check_url` for threads (blocks on the resolver)."""
    resolve_now(field, url, allowlist, only=only)


async def check_urls(
    urls: dict[str, str | None], allowlist: Sequence[str], *, only: bool = False
) -> None:
    """Check each field's URL (absent ones skipped); image fields may be data: URLs."""
    for field, url in urls.items():
        if url is not None:
            await check_url(field, url, allowlist, data=field != "callback_url", only=only)


def pinned(target: Target) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(URL, headers, httpx extensions) that reach `target` at its checked address only:
    the address in the URL, the name in the Host header and in TLS (SNI and certificate)."""
    url = httpx.URL(target.url)
    if target.address is None:
        return str(url), {}, {}
    at_address = url.copy_with(host=str(target.address))
    host_header = url.netloc.decode("ascii")
    extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
    return str(at_address), {"Host": host_header}, extensions
